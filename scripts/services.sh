#!/usr/bin/env bash
# Real PostgreSQL and Redis for tests and benchmarks, as plain processes on 127.0.0.1.
#
#   scripts/services.sh start DIR   installs the servers if missing, starts them under DIR on free
#                                   ports, and writes DIR/env (ZB_TEST_DATABASE_URL, ZB_TEST_REDIS_URL)
#   scripts/services.sh stop DIR    stops them
#
# There is no Docker engine on these machines (see RECIPES.md), so nothing here uses containers.
set -euo pipefail

cmd=${1:?usage: services.sh start|stop DIR}
dir=${2:?usage: services.sh start|stop DIR}
pg_bin=/usr/lib/postgresql/15/bin

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
}

stop() {
  [ -d "$dir" ] || return 0
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
