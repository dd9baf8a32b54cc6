#!/usr/bin/env bash
# Checks of the running API that are not Swift tests, run by ./dev test after them:
# schemathesis against openapi.yaml on a real `faasten serve` (anonymous, then as a
# registered user), and the README's walk-through (examples/walkthrough.sh).
#
#   scripts/api-checks.sh     (after `swift build`; BIN may name the build's bin directory)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${BIN:-$(swift build --show-bin-path)}"
work="$(mktemp -d -t faasten-api-checks-XXXXXX)"
source scripts/lib-serve.sh
start_server "$bin" "$work" --log-level warning
url="$SERVER_URL"

printf '==> schemathesis against %s, anonymous\n' "$url" >&2
scripts/schemathesis.sh "$url"

token="$(/usr/bin/python3 - "$url" <<'PY'
import json, sys, urllib.request
url = sys.argv[1]
def post(path, body):
    request = urllib.request.Request(url + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(request))
post("/v1/accounts", {"name": "schemathesis", "password": "schemathesis-password"})
print(post("/v1/login", {"name": "schemathesis", "password": "schemathesis-password"})["token"])
PY
)"
printf '==> schemathesis against %s, as a registered user\n' "$url" >&2
FAASTEN_TOKEN="$token" scripts/schemathesis.sh "$url"

printf '==> the README walk-through\n' >&2
FAASTEN_BIN="$bin" examples/walkthrough.sh
