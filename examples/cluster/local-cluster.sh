#!/usr/bin/env bash
# A two-worker Faasten cluster on one machine, by hand: a throwaway PostgreSQL
# server on 127.0.0.1, one `faasten gateway` on 127.0.0.1:8080 (or $GATEWAY_LISTEN)
# and two `faasten worker`s, all stopped (and the database removed) on Ctrl-C or
# SIGTERM. docs/operations.md explains each step; for real deployments see the
# systemd units beside this script.
#
#   examples/cluster/local-cluster.sh        # after ./dev build
#
# FAASTEN_BIN may name the directory holding faasten (default: the debug build).
set -euo pipefail
cd "$(dirname "$0")/../.."

bin="${FAASTEN_BIN:-$(swift build --show-bin-path)}"
[ -x "$bin/faasten" ] || { echo "error: $bin/faasten is not built; run ./dev build first" >&2; exit 1; }
pg="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -n "$pg" ] || { echo "error: PostgreSQL is missing; install it with: sudo apt-get install -y postgresql" >&2; exit 1; }
port="${PG_PORT:-55432}"
listen="${GATEWAY_LISTEN:-127.0.0.1:8080}"
work="$(mktemp -d /tmp/faasten-cluster-XXXXXX)"
chmod 711 "$work"

# PostgreSQL refuses to run as root: as root, run it as the postgres user.
as_pg=()
if [ "$(id -u)" = 0 ]; then
  chown postgres "$work"
  as_pg=(runuser -u postgres --)
fi

pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  "${as_pg[@]}" "$pg/pg_ctl" -D "$work/db" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "==> stopping"; cleanup; exit 0' INT TERM

echo "==> PostgreSQL on 127.0.0.1:$port (data in $work/db)"
"${as_pg[@]}" "$pg/initdb" -D "$work/db" -U faasten --auth=trust -E UTF8 --no-locale >/dev/null
"${as_pg[@]}" "$pg/pg_ctl" -w -D "$work/db" -l "$work/postgres.log" -o "-h 127.0.0.1 -p $port -k $work" start >/dev/null
"$pg/psql" -h 127.0.0.1 -p "$port" -U faasten -d postgres -qc "CREATE DATABASE faasten"
export FAASTEN_STORE="postgres://faasten@127.0.0.1:$port/faasten"
# Every part of a cluster opens the store's data keys with one master key: the
# gateway makes this file at first start, the workers read it.
mkdir -p "$work/gateway"
export FAASTEN_MASTER_KEY_SPEC="$work/master-key"

limits=()
[ "$(id -u)" = 0 ] || limits=(--no-limits)

echo "==> faasten gateway on $listen (log: $work/gateway.log)"
"$bin/faasten" gateway --listen "$listen" --data "$work/gateway" --master-key "$FAASTEN_MASTER_KEY_SPEC" >"$work/gateway.out" 2>"$work/gateway.log" &
pids+=($!)
for n in 1 2; do
  echo "==> faasten worker $n (log: $work/worker-$n.log)"
  "$bin/faasten" worker --memory 1024 "${limits[@]}" --cache "$work/cache-$n" --master-key "$FAASTEN_MASTER_KEY_SPEC" >"$work/worker-$n.out" 2>"$work/worker-$n.log" &
  pids+=($!)
done

# Ready when the gateway has printed its address and /healthz counts both workers.
for _ in $(seq 1 300); do
  if grep -q "listening on" "$work/gateway.out" 2>/dev/null &&
    curl -fsS "http://$listen/healthz" 2>/dev/null | grep -q '"live_workers":2'; then
    echo "==> ready: $(head -1 "$work/gateway.out"); admin password in $work/gateway/admin-password"
    curl -fsS "http://$listen/healthz"; echo
    echo "    try: FSTN_SERVER=http://$listen fstn register alice   (Ctrl-C stops the cluster)"
    wait -n "${pids[@]}" || true
    echo "error: a cluster process stopped; its log is in $work" >&2
    exit 1
  fi
  sleep 0.2
done
echo "error: the cluster did not become ready; logs:" >&2
tail -n 20 "$work"/*.log >&2
exit 1
