#!/usr/bin/env bash
# Keycloak, the interop tests' independent OIDC IdP (test/interop/keycloak-idp.test.ts): the
# keycloak-quarkus-dist zip from Maven Central, fetched once with Maven (which checks the sha1 the
# repository publishes; it is compared again here), unpacked into a cache folder, and started once
# so that its one-time Quarkus build for dev mode is done here and not inside a test's deadline.
# Idempotent. Progress goes to stderr; the LAST stdout line is the path of kc.sh:
#
#   JSM_SSO_KEYCLOAK="$(bash .ci/keycloak.sh | tail -n 1)"
#
# Environment:
#   JSM_SSO_KEYCLOAK_CACHE  cache folder (default /var/cache/jsm-sso/keycloak)
set -euo pipefail

VERSION=26.7.3
ARTIFACT=org.keycloak:keycloak-quarkus-dist:$VERSION:zip
CACHE=${JSM_SSO_KEYCLOAK_CACHE:-/var/cache/jsm-sso/keycloak}
HOME_DIR=$CACHE/keycloak-$VERSION
# Written last: a folder without it is a fetch or warm-up that was interrupted.
READY=$HOME_DIR/.jsm-sso-ready

if [ ! -f "$READY" ]; then
  command -v mvn >/dev/null || { echo "keycloak: mvn is missing (Debian package maven)" >&2; exit 1; }
  command -v unzip >/dev/null || { echo "keycloak: unzip is missing (Debian package unzip)" >&2; exit 1; }
  mkdir -p "$CACHE"
  work=$(mktemp -d "$CACHE/.fetch.XXXXXX")
  pid=
  cleanup() {
    [ -n "$pid" ] && kill -- "-$pid" 2>/dev/null || true
    rm -rf "$work"
  }
  trap cleanup EXIT
  # A timeout's TERM must still end the Keycloak started below (its own session) and the work folder.
  trap 'exit 1' TERM INT
  echo "keycloak: fetching $ARTIFACT from Maven Central" >&2
  mvn -B -q -C -Dstyle.color=never dependency:copy -Dartifact="$ARTIFACT" -DoutputDirectory="$work" \
    -Dmaven.repo.local="$work/m2" >&2
  zip=$work/keycloak-quarkus-dist-$VERSION.zip
  published=$(cut -c1-40 "$work/m2/org/keycloak/keycloak-quarkus-dist/$VERSION/keycloak-quarkus-dist-$VERSION.zip.sha1")
  actual=$(sha1sum "$zip" | cut -c1-40)
  [ "$published" = "$actual" ] || { echo "keycloak: sha1 $actual is not the published $published" >&2; exit 1; }
  unzip -q "$zip" -d "$work/unpacked"
  rm -rf "$work/m2" "$zip"
  # The first start-dev rebuilds the server for dev mode with an in-memory H2 (a minute or more on
  # a loaded machine); done here once, the tests' starts skip it. Port 0: any free loopback port.
  echo "keycloak: first start (its build for dev mode), waiting for 'Listening on'" >&2
  log=$work/first-start.log
  setsid env JAVA_OPTS_KC_HEAP=-Xmx512m "$work/unpacked/keycloak-$VERSION/bin/kc.sh" start-dev \
    --http-host=127.0.0.1 --http-port=0 --db=dev-mem >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 600); do
    grep -q 'Listening on' "$log" && break
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; echo "keycloak: first start failed" >&2; exit 1; }
    sleep 1
  done
  grep -q 'Listening on' "$log" || { cat "$log" >&2; echo "keycloak: no start in 600 s" >&2; exit 1; }
  kill -- "-$pid"
  wait "$pid" 2>/dev/null || true
  pid=
  # What the run left behind (Narayana's transaction log) is not part of the install.
  rm -rf "$work/unpacked/keycloak-$VERSION/data"
  rm -rf "$HOME_DIR"
  mv "$work/unpacked/keycloak-$VERSION" "$HOME_DIR"
  touch "$READY"
fi
echo "keycloak: $(cat "$HOME_DIR/version.txt") in $HOME_DIR" >&2
echo "$HOME_DIR/bin/kc.sh"
