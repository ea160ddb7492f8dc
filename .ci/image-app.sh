#!/usr/bin/env bash
# The image's /app, from a runtime build already in dist/ (tsconfig.build.json): what .ci/image.sh
# (CI) and the Dockerfile's build stage both put in the image, so the two hold the same files.
# Usage: bash .ci/image-app.sh DEST   (run from the repository's root; DEST/dist, DEST/crds...)
# node_modules and the SBOM are added by the caller.
set -euo pipefail
APP=$1
# The .js of each runtime source only: dist/ may also hold outputs of sources since deleted.
find cli common broker portal operator -name '*.ts' ! -name '*.d.ts' | while IFS= read -r source; do
  install -D -m 0644 "dist/${source%.ts}.js" "$APP/dist/${source%.ts}.js"
done
# JSON the sources import (tsc copies it into dist/): the metric catalogue (common/metrics.ts).
find cli common broker portal operator -name '*.json' | while IFS= read -r source; do
  install -D -m 0644 "dist/$source" "$APP/dist/$source"
done
# What `jsm-sso --version` and jsm_sso_build_info report (scripts/build-info.ts).
install -D -m 0644 dist/common/build-info.json "$APP/dist/common/build-info.json"
cp package.json "$APP/"
cp -r crds "$APP/crds"
if [ -f LICENSE ]; then cp LICENSE "$APP/LICENSE"; fi
chmod -R a+rX,go-w "$APP"
