#!/usr/bin/env bash
# Property-based tests of a running gateway against openapi.yaml, with schemathesis:
# no response may be a 5xx (see scripts/schemathesis.toml for the invocation statuses
# that may), and every response must match the specification.
#
#   scripts/schemathesis.sh BASE_URL [SCHEMATHESIS_OPTION...]
#
#   scripts/schemathesis.sh http://127.0.0.1:8080                       # anonymous
#   FAASTEN_TOKEN="$token" scripts/schemathesis.sh http://127.0.0.1:8080
#   scripts/schemathesis.sh http://127.0.0.1:8080 --include-tag fs      # one area
#
# The server is not started here: start `faasten serve --data DIR --listen
# 127.0.0.1:PORT` first. Environment:
#   FAASTEN_TOKEN               a bearer token sent with every request (default: none).
#                               With one, the operations that could end its session
#                               (logout, disableUser, resetPassword, deleteUser) are
#                               skipped: schemathesis reuses names it has seen
#   SCHEMATHESIS_MAX_EXAMPLES   test cases per operation and phase (default 20)
#   SCHEMATHESIS_WORKERS        concurrent workers (default 1: with more, Debian 12's
#                               Python 3.11.2 can fail at random in its ast module,
#                               CPython gh-106905)
#   SCHEMATHESIS_SEED           a seed, to repeat a run
#
# The first run creates .venv-schemathesis/ with a pinned schemathesis; its caches (and
# the failures `st replay` can repeat) live there too.
# Exit status: 0 passed, 1 failures or errors found, 2 usage error or missing prerequisite.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

version=4.32.5
venv="$root/.venv-schemathesis"

say() { printf '==> %s\n' "$*" >&2; }
fail() { printf 'error: %s\n' "$*" >&2; exit 2; }

if [ $# -lt 1 ] || [[ "$1" != http://* && "$1" != https://* ]]; then
  sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
base_url="${1%/}"
shift

apt_updated=0
# need_package TEST PACKAGE: if the shell test TEST fails, install PACKAGE when root,
# else stop with the command to run (as ./dev does).
need_package() {
  eval "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    if [ $apt_updated = 0 ]; then
      say "apt-get update"
      apt-get update -qq >&2
      apt_updated=1
    fi
    say "installing $2"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >&2
  else
    fail "$2 is missing; install it with: sudo apt-get install -y $2"
  fi
}

# Debian's python3 makes virtual environments only with python3-venv (it holds ensurepip).
need_package "test -x /usr/bin/python3" python3
need_package "/usr/bin/python3 -c 'import ensurepip'" python3-venv

if ! "$venv/bin/python" -c '' >/dev/null 2>&1; then
  say "creating $venv"
  rm -rf "$venv"
  /usr/bin/python3 -m venv "$venv" || fail "cannot create $venv with /usr/bin/python3 -m venv"
fi
if [ "$("$venv/bin/schemathesis" --version 2>/dev/null || true)" != "schemathesis, version $version" ]; then
  say "installing schemathesis $version into $venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$version" >&2 ||
    fail "cannot install schemathesis $version from PyPI"
fi

if ! "$venv/bin/python" - "$base_url/faasten/ping" <<'PY' >/dev/null 2>&1; then
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=5).read()
PY
  fail "no gateway answers at $base_url (GET /faasten/ping); start faasten serve first"
fi

options=(
  --url "$base_url"
  --checks not_a_server_error,response_schema_conformance
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-20}"
  --workers "${SCHEMATHESIS_WORKERS:-1}"
  --request-timeout 60
)
if [ -n "${SCHEMATHESIS_SEED:-}" ]; then
  options+=(--seed "$SCHEMATHESIS_SEED")
fi
if [ -n "${FAASTEN_TOKEN:-}" ]; then
  options+=(--header "Authorization: Bearer $FAASTEN_TOKEN")
  for operation in logout disableUser resetPassword deleteUser; do
    options+=(--exclude-operation-id "$operation")
  done
fi

say "schemathesis $version: openapi.yaml against $base_url"
# Run inside the venv so that schemathesis's and Hypothesis's caches stay out of the tree.
cd "$venv"
exec "$venv/bin/schemathesis" --config-file "$root/scripts/schemathesis.toml" \
  run "$root/openapi.yaml" "${options[@]}" "$@"
