#!/usr/bin/env bash
# Installs the Python SAML peers the interop tests drive (pysaml2, see test/interop/py/requirements.txt)
# into a venv kept in a cache folder. Idempotent: a venv already holding these exact requirements is
# reused. Prints the venv's python path on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
requirements="test/interop/py/requirements.txt"
if [ -n "${JSM_SSO_PYENV_DIR:-}" ]; then
  venv="$JSM_SSO_PYENV_DIR"
elif mkdir -p /var/cache/jsm-sso 2>/dev/null && [ -w /var/cache/jsm-sso ]; then
  venv="/var/cache/jsm-sso/pyenv"
else
  venv="${XDG_CACHE_HOME:-$HOME/.cache}/jsm-sso/pyenv"
fi
python="$venv/bin/python"
stamp="$venv/.requirements"
command -v xmlsec1 >/dev/null || { echo "xmlsec1 is missing (Debian package xmlsec1)" >&2; exit 1; }
if [ ! -x "$python" ] || ! cmp -s "$requirements" "$stamp" || ! "$python" -c 'import saml2' 2>/dev/null; then
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv" >&2
  "$python" -m pip install --quiet --disable-pip-version-check -r "$requirements" >&2
  cp "$requirements" "$stamp"
fi
echo "$python"
