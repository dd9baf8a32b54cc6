#!/usr/bin/env bash
# The README's five-minute walk-through, as a script that checks every step:
# starts `faasten serve --demo` on a free loopback port with a fresh data directory,
# then, with fstn: alice stores a private photo, runs the photo app's thumbnail gate
# and reads the thumbnail; bob is refused both the thumbnail and the photo.
#
#   examples/walkthrough.sh        (after `swift build`; ./dev test runs it)
#
# FAASTEN_BIN may name the directory holding faasten and fstn.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
bin="${FAASTEN_BIN:-$(cd "$repo" && swift build --show-bin-path)}"
work="$(mktemp -d -t faasten-walkthrough-XXXXXX)"
export XDG_CONFIG_HOME="$work/config"
source "$repo/scripts/lib-serve.sh"
start_server "$bin" "$work" --demo
export FSTN_SERVER="$SERVER_URL"

# step STATUS ARGS...: runs `fstn ARGS...`, shows it, and checks its exit status.
step() {
  local want=$1
  shift
  printf '$ fstn'
  printf " '%s'" "$@"
  printf '\n'
  local status=0
  "$bin/fstn" "$@" || status=$?
  if [ "$status" != "$want" ]; then
    echo "FAILED: expected exit status $want, got $status" >&2
    exit 1
  fi
  echo
}

# Files go to a directory of their own, as in the README ($tmp), never the repository.
tmp="$work/files"
mkdir -p "$tmp"
FSTN_PASSWORD=alice-demo-password step 0 login alice
step 0 whoami
step 0 mkdir '~:photos' --label alice,alice
/usr/bin/python3 "$repo/examples/photos/sample.py" > "$tmp/beach.ppm"
step 0 blob put '~:photos:beach.ppm' "$tmp/beach.ppm" --label alice,alice
photo='{"photo": "home:<alice,alice>:photos:beach.ppm", "size": [64, 64]}'
step 0 invoke 'home:<T,pma>:thumbnail' "$photo"
step 0 ls 'home:<alice,pma>'
step 0 blob get 'home:<alice,pma>:beach.ppm.thumb' -o "$tmp/thumb"
[ -s "$tmp/thumb" ] || { echo "FAILED: the thumbnail is empty" >&2; exit 1; }
FSTN_PASSWORD=bob-demo-password step 0 login bob
step 1 blob get 'home:<alice,pma>:beach.ppm.thumb' -o "$tmp/stolen"
step 1 invoke 'home:<T,pma>:thumbnail' "$photo"
[ ! -s "$tmp/stolen" ] || { echo "FAILED: bob got the thumbnail" >&2; exit 1; }
echo "The walk-through works."
