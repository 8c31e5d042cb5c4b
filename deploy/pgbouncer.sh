#!/usr/bin/env bash
# PgBouncer (Debian's) in transaction pooling in front of the local PostgreSQL, for checks and
# the bench: `deploy/pgbouncer.sh start [PORT]`, `deploy/pgbouncer.sh stop`, `... stats`.
# Every database is passed through to PostgreSQL on 127.0.0.1:5432 as the same user; clients
# connect with trust, as they do to PostgreSQL on these machines. A production PgBouncer
# authenticates its clients (auth_type = scram-sha-256 and an auth_file or auth_query).
set -euo pipefail

DIR=${PGBOUNCER_DIR:-/tmp/shop-pgbouncer}
PORT=${2:-${PGBOUNCER_PORT:-6432}}
command -v pgbouncer >/dev/null || {
	echo "Installing PgBouncer from Debian (needs root)"
	apt-get update -qq && apt-get install -y -qq --no-install-recommends pgbouncer >/dev/null
}

case "${1:-}" in
start)
	mkdir -p "$DIR"
	cat >"$DIR/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=5432

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PORT
unix_socket_dir =
auth_type = trust
auth_file = $DIR/users.txt
admin_users = postgres
pool_mode = transaction
; Twice the store's connections at the most: 2 hosts x 4 workers, the worker, the checks.
default_pool_size = 20
max_client_conn = 500
; psycopg sets these at connect; PgBouncer passes on only what it knows.
ignore_startup_parameters = extra_float_digits,options
server_idle_timeout = 30
logfile = $DIR/pgbouncer.log
pidfile = $DIR/pgbouncer.pid
INI
	echo '"postgres" ""' >"$DIR/users.txt"
	chown -R postgres "$DIR" 2>/dev/null || true
	# PgBouncer refuses to run as root.
	if [ "$(id -u)" = 0 ]; then user=(-u postgres); else user=(); fi
	pgbouncer -d "${user[@]}" "$DIR/pgbouncer.ini"
	for _ in $(seq 50); do
		psql -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -Atc "SELECT 1" >/dev/null 2>&1 && exit 0
		sleep 0.1
	done
	echo "PgBouncer did not start; see $DIR/pgbouncer.log" >&2
	exit 1
	;;
stop)
	if [ -f "$DIR/pgbouncer.pid" ]; then
		kill "$(cat "$DIR/pgbouncer.pid")" 2>/dev/null || true
		rm -f "$DIR/pgbouncer.pid"
	fi
	;;
stats)
	psql -h 127.0.0.1 -p "$PORT" -U postgres -d pgbouncer -c "SHOW STATS"
	;;
*)
	echo "usage: $0 start|stop|stats [PORT]" >&2
	exit 2
	;;
esac
