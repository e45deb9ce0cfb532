#!/usr/bin/env bash
# Run a command with a throwaway PostgreSQL server: TEST_POSTGRES_URL names its database.
# Usage: ./scripts/postgres.sh COMMAND [ARGS...]   (the command's exit status is returned)
#
# The server lives in a temporary directory, listens on a free port of 127.0.0.1 with password
# (scram-sha-256) authentication, runs without fsync (it is thrown away), and is stopped and
# deleted when the command ends. initdb refuses to run as root, so as root the server runs as
# the `postgres` system user (PG_USER to choose another). With TEST_POSTGRES_URL already set,
# or without PostgreSQL's binaries (PG_BIN, else the newest /usr/lib/postgresql/*/bin, else
# pg_config --bindir), the command simply runs: the PostgreSQL tests then use that server, or
# skip (fail under REQUIRE_POSTGRES=1).
set -euo pipefail
if [ "$#" -eq 0 ]; then
    echo "usage: $0 COMMAND [ARGS...]" >&2
    exit 2
fi
if [ -n "${TEST_POSTGRES_URL:-}" ]; then
    exec "$@"
fi
PG_BIN="${PG_BIN:-}"
if [ -z "$PG_BIN" ]; then
    PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
fi
if [ -z "$PG_BIN" ] && command -v pg_config > /dev/null; then
    PG_BIN="$(pg_config --bindir)"
fi
if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
    echo "postgres.sh: no PostgreSQL binaries found (PG_BIN); running without a server" >&2
    exec "$@"
fi

as_server() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u "${PG_USER:-postgres}" -- "$@"
    else
        "$@"
    fi
}

dir="$(mktemp -d "${TMPDIR:-/tmp}/modelup-pg.XXXXXX")"
stop() {
    as_server "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate stop > /dev/null 2>&1 || true
    rm -rf "$dir"
}
trap stop EXIT
if [ "$(id -u)" -eq 0 ]; then
    chown "${PG_USER:-postgres}" "$dir"
fi
chmod 700 "$dir"

password="$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
printf '%s\n' "$password" > "$dir/password"
chmod 600 "$dir/password"
if [ "$(id -u)" -eq 0 ]; then
    chown "${PG_USER:-postgres}" "$dir/password"
fi
if ! as_server "$PG_BIN/initdb" -D "$dir/data" -U modelup --pwfile="$dir/password" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-locale --no-sync \
    > "$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    exit 1
fi
rm -f "$dir/password"
options="-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off"
options="$options -c synchronous_commit=off -c full_page_writes=off -c max_connections=50"
if ! as_server "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "$options" -w -t 30 \
    start > /dev/null; then
    cat "$dir/server.log" >&2
    exit 1
fi
as_server "$PG_BIN/createdb" -h "$dir" -p "$port" -U modelup modelup_test

export TEST_POSTGRES_URL="postgresql://modelup:$password@127.0.0.1:$port/modelup_test"
echo "postgres.sh: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on" \
    "127.0.0.1:$port (database modelup_test), stopped when the command ends" >&2
set +e
"$@"
status=$?
set -e
exit "$status"
