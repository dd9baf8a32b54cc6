# Shared by the examples' install scripts: build faasten, make a data directory, and
# run commands showing them, stopping if one does not end as expected.

example_setup() {
  repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  # FAASTEN may name a built faasten (the tests do); otherwise build one.
  faasten="${FAASTEN:-}"
  if [ -z "$faasten" ]; then
    faasten="$("$repo/dev" build)"
  fi
  data="${1:-}"
  if [ -z "$data" ]; then
    data="$(mktemp -d -t faasten-example-XXXXXX)"
  fi
  mkdir -p "$data"
  export FAASTEN_DATA="$data"
  # Sandboxes get cgroup limits when we may create cgroups (as root); elsewhere they
  # run without them, which is fine for a demo and not for a server.
  limits=()
  if [ "$(id -u)" != 0 ]; then
    limits=(--no-limits)
  fi
  "$faasten" fs init >/dev/null
}

# expect STATUS faasten ARGS...: shows the command, runs it, and stops unless it exits with STATUS.
expect() {
  local want="$1"; shift
  printf '$ faasten'; printf " '%s'" "$@"; printf '\n'
  local status=0
  "$faasten" "$@" 2>&1 || status=$?
  echo
  if [ "$status" != "$want" ]; then
    printf 'error: expected exit status %s, got %s\n' "$want" "$status" >&2
    exit 1
  fi
}

# invoke STATUS PATH PRIVILEGE PAYLOAD: expect … invoke, with the sandbox limits flag.
invoke() {
  expect "$1" invoke "$2" --as "$3" --payload "$4" "${limits[@]}"
}
