#!/usr/bin/env bash
# The web console in a real browser (Tests/Browser/console_test.py): Debian's headless
# chromium and chromium-driver, driven from Python's selenium, against a real
# `faasten serve --demo` on a free loopback port. Run by ./dev test, which installs
# chromium, chromium-driver and python3-venv; the first run creates .venv-browser/ with
# a pinned selenium from PyPI.
#
#   scripts/browser-test.sh [SCREENSHOT_DIR]     (after `swift build`; BIN may name the bin directory)
#
# Screenshots go to SCREENSHOT_DIR (default .build/browser-screenshots; the README's are
# in docs/screenshots, made with `scripts/browser-test.sh docs/screenshots`).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
bin="${BIN:-$(swift build --show-bin-path)}"
shots="$(mkdir -p "${1:-.build/browser-screenshots}" && cd "${1:-.build/browser-screenshots}" && pwd)"
selenium=4.50.0
venv="$root/.venv-browser"

fail() { printf 'error: %s\n' "$*" >&2; exit 2; }
for tool in /usr/bin/chromium /usr/bin/chromedriver; do
  [ -x "$tool" ] || fail "$tool is missing; install it with: sudo apt-get install -y chromium chromium-driver (./dev test does)"
done
/usr/bin/python3 -c 'import ensurepip' 2>/dev/null || fail "python3-venv is missing; install it with: sudo apt-get install -y python3-venv"

if ! "$venv/bin/python" -c "import selenium, sys; sys.exit(selenium.__version__ != '$selenium')" 2>/dev/null; then
  printf '==> installing selenium %s into %s\n' "$selenium" "$venv" >&2
  rm -rf "$venv"
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "selenium==$selenium" >&2 ||
    fail "cannot install selenium $selenium from PyPI"
fi

work="$(mktemp -d -t faasten-browser-XXXXXX)"
source scripts/lib-serve.sh
start_server "$bin" "$work" --demo --log-level warning

printf '==> the console in headless chromium against %s (screenshots: %s)\n' "$SERVER_URL" "$shots" >&2
# selenium must not look for drivers on the network: chromedriver is Debian's.
SE_OFFLINE=true "$venv/bin/python" Tests/Browser/console_test.py "$SERVER_URL" "$shots"
