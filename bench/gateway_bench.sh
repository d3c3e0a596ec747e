#!/usr/bin/env bash
# Gateway benchmarks (issue 5), printed as tables:
#   ingest  — 4 supervisors pushing over PushEvents into SQLite, then into PostgreSQL (a throwaway
#             server of its own), batches of 500, 1000 and 5000 (target: >= 100,000 events/s into
#             SQLite); every pushed event must be stored exactly once, or the run fails;
#   query   — the incident questions over a 10,000,000-event SQLite store (target: each < 1 s); the
#             store is kept in /var/tmp/warden-bench and reused. QUERY_POSTGRES=1 adds the same over
#             PostgreSQL, its data directory kept in /var/tmp/warden-bench/pg-query.
# Builds nothing: the binaries come from $BUILD_DIR (default build-release). Exits non-zero when any
# run failed (lost, refused or unacknowledged events, a query error or a wrong answer); a missed
# target is printed, not a failure.
# Environment: BUILD_DIR, GATEWAY_SECTIONS ("ingest-sqlite ingest-postgres query"), BATCHES
# ("500 1000 5000"), INGEST_SECONDS (10), QUERY_EVENTS (10000000), QUERY_SESSIONS (1000), QUERY_RUNS (7),
# QUERY_POSTGRES (0).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build-release}
sections=${GATEWAY_SECTIONS:-ingest-sqlite ingest-postgres query}
batches=${BATCHES:-500 1000 5000}
seconds=${INGEST_SECONDS:-10}
query_events=${QUERY_EVENTS:-10000000}
query_sessions=${QUERY_SESSIONS:-1000}
query_runs=${QUERY_RUNS:-7}
pg_bin=/usr/lib/postgresql/15/bin
ingest="$build/bench/gateway_ingest_bench"
query="$build/bench/gateway_query_bench"
for t in "$ingest" "$query"; do
  if [ ! -x "$t" ]; then
    echo "gateway_bench: $t is missing (cmake --preset release && cmake --build $build --target $(basename "$t"))" >&2
    exit 1
  fi
done

mkdir -p /var/tmp/warden-bench
work=$(mktemp -d /var/tmp/warden-bench/gateway-bench.XXXXXX)
chmod 755 "$work"  # PostgreSQL runs as the postgres user inside it
pg_data=""         # the running server's data directory, if any
pg_port=""
failed=0

pg_stop() {
  if [ -n "$pg_data" ]; then
    runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
    pg_data=""
  fi
}
cleanup() {
  pg_stop
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Why PostgreSQL cannot run here, or nothing when it can.
pg_missing() {
  if [ "$(id -u)" -ne 0 ]; then echo "needs root (runs PostgreSQL as the postgres user)"; return; fi
  if [ ! -x "$pg_bin/initdb" ] || [ ! -x "$pg_bin/pg_ctl" ]; then
    echo "PostgreSQL 15 binaries not in $pg_bin (apt-get install postgresql-15)"
    return
  fi
  if ! id -u postgres >/dev/null 2>&1; then echo "no postgres user"; fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# pg_start DIR: initdb DIR/data unless it exists, then start it on 127.0.0.1 and a free port with
# its socket in DIR (default settings: fsync and synchronous_commit on, like SQLite's FULL).
pg_start() {
  local dir=$1
  mkdir -p "$dir"
  chown postgres: "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    runuser -u postgres -- "$pg_bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 \
      >"$dir/initdb.log" 2>&1 || { echo "gateway_bench: initdb failed: $(tail -5 "$dir/initdb.log")" >&2; return 1; }
  fi
  pg_port=$(free_port)
  if ! runuser -u postgres -- "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
      -o "-p $pg_port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null; then
    echo "gateway_bench: PostgreSQL did not start: $(tail -5 "$dir/postgres.log")" >&2
    return 1
  fi
  pg_data="$dir/data"
}

# pg_db NAME: creates database NAME unless it exists; prints its URL.
pg_db() {
  runuser -u postgres -- "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$1'" | grep -q 1 ||
    runuser -u postgres -- "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres "$1"
  echo "postgresql://postgres@127.0.0.1:$pg_port/$1"
}

run() {
  if ! "$@"; then
    echo "gateway_bench: FAILED: $*" >&2
    failed=1
  fi
}

has() { case " $sections " in *" $1 "*) return 0 ;; esac; return 1; }

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
if has ingest-sqlite || has ingest-postgres; then
  echo
  echo "== gateway ingest: 4 supervisors, PushEvents, ${seconds} s per run, 4 batches in flight per stream"
  echo "== (target: >= 100,000 events/s into SQLite; every event stored exactly once)"
  header=""
  if has ingest-sqlite; then
    for batch in $batches; do
      run "$ingest" --db "$work/ingest-$batch.db" --batch "$batch" --seconds "$seconds" $header
      header=--no-header
    done
  fi
  if has ingest-postgres; then
    why=$(pg_missing)
    if [ -n "$why" ]; then
      echo "postgresql: skipped: $why"
    elif pg_start "$work/pg"; then
      for batch in $batches; do
        run "$ingest" --db "$(pg_db "ingest_$batch")" --batch "$batch" --seconds "$seconds" $header
        header=--no-header
      done
      pg_stop
    else
      failed=1
    fi
  fi
fi
if has ingest-sqlite; then
  echo
  echo "== where a pushed event's server time goes (one thread, CPU per event)"
  run "$ingest" --stages --batch 1000
fi
if has query; then
  echo
  echo "== gateway incident queries over $query_events events, $query_sessions sessions (target: each < 1 s)"
  run "$query" --events "$query_events" --sessions "$query_sessions" --runs "$query_runs"
  if [ "${QUERY_POSTGRES:-0}" = 1 ]; then
    why=$(pg_missing)
    if [ -n "$why" ]; then
      echo "postgresql: skipped: $why"
    elif pg_start /var/tmp/warden-bench/pg-query; then
      echo
      run "$query" --db "$(pg_db "query_${query_events}_${query_sessions}")" --events "$query_events" \
        --sessions "$query_sessions" --runs "$query_runs"
      pg_stop
    else
      failed=1
    fi
  fi
fi
exit "$failed"
