# Sourced by scripts that need a running `faasten serve` (api-checks.sh, the README
# walk-through): start_server BIN WORK [SERVE_ARGS...] starts it on a free loopback port
# with its data in WORK/data, sets SERVER_URL and SERVER_PID, and stops it (and removes
# WORK) when the calling script exits.
start_server() {
  local bin=$1 work=$2
  shift 2
  local limits=()
  [ "$(id -u)" = 0 ] || limits=(--no-limits)
  "$bin/faasten" serve --data "$work/data" --listen 127.0.0.1:0 --bcrypt-cost 8 "${limits[@]}" "$@" \
    > "$work/server.out" 2> "$work/server.log" &
  SERVER_PID=$!
  SERVER_WORK=$work
  trap stop_server EXIT
  for _ in $(seq 1 300); do
    grep -q 'listening on' "$work/server.out" 2>/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$work/server.log" >&2; echo "the server did not start" >&2; exit 1; }
    sleep 0.1
  done
  SERVER_URL="$(sed -n 's/^faasten listening on //p' "$work/server.out")"
  [ -n "$SERVER_URL" ] || { echo "the server did not say where it listens" >&2; exit 1; }
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  rm -rf "$SERVER_WORK"
}
