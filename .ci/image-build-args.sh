#!/usr/bin/env bash
# The Dockerfile's build arguments that become the image's OCI labels, checked before it compiles: a
# VERSION other than the one `jsm-sso --version` reports from package.json, or a CREATED that is no UTC
# time, would label the image with what is not so. CREATED's default, the Unix epoch, passes: the
# reproducible-build convention for a build that gives no time. .ci/image.sh takes both from the
# checkout itself; the README's docker build command passes them (ADR 0364).
# Usage: bash .ci/image-build-args.sh VERSION CREATED   (run from the repository's root)
set -euo pipefail
version=$1
created=$2
problems=()
expected=$(node -p "require('./package.json').version")
if [ "$version" != "$expected" ]; then
  problems+=("VERSION is '$version', package.json's version is $expected: pass --build-arg VERSION=$expected, or none")
fi
if ! [[ $created =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]]; then
  problems+=("CREATED is '$created', not a UTC time such as 2026-01-31T12:00:00Z: pass --build-arg CREATED=\"\$(TZ=UTC git log -1 --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd)\" (the commit's time, as .ci/image.sh labels it)")
fi
if [ ${#problems[@]} -gt 0 ]; then
  printf 'image build arguments: %s\n' "${problems[@]}" >&2
  exit 2
fi
