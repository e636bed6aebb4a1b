#!/usr/bin/env bash
# Start a PostgreSQL server for the tests on 127.0.0.1:5432 (unless one already answers there)
# and create the `test` database; the server is left running.
#
# Debian's `postgresql` package is used (installed with apt-get when it is missing and we are
# root): it is the server the project's machines ship or can install, the same major version a
# production deployment gets from its distribution, and needs no download outside the package
# registries. The cluster lives in its own data directory with trust authentication on
# loopback only: it is a throw-away test server, never a place for real records.
set -euo pipefail

host=127.0.0.1
port=${MLGATE_TEST_POSTGRES_PORT:-5432}
say() { echo "postgres: $*"; }

find_bindir() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/pg_ctl" ] && echo "$dir"
  done | sort -V | tail -n 1
}

bindir=$(find_bindir)
if [ -z "$bindir" ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    say "installing Debian's postgresql package"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    bindir=$(find_bindir)
  fi
  if [ -z "$bindir" ]; then
    say "no PostgreSQL server is installed, and it cannot be installed here (needs root and apt-get)."
    say "Install one, or start any server on $host:$port; the PostgreSQL tests are skipped without it."
    exit 1
  fi
fi

# The server refuses to run as root: as root it runs as the `postgres` user, in its home.
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
  home=$(getent passwd postgres | cut -d: -f6)
  data=${MLGATE_TEST_POSTGRES_DATA:-$home/mlgate-test}
  mkdir -p "$home" && chown postgres: "$home"
  as_server() { runuser -u postgres -- "$@"; }
else
  data=${MLGATE_TEST_POSTGRES_DATA:-$PWD/.services/postgres}
  as_server() { "$@"; }
fi

if ! "$bindir/pg_isready" -q -h "$host" -p "$port"; then
  if [ ! -s "$data/PG_VERSION" ]; then
    say "creating a cluster in $data"
    mkdir -p "$data"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$data"
    as_server "$bindir/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  # A server killed with its machine leaves postmaster.pid behind; if no postgres runs under
  # that pid now, the file is stale and would stop the start (another process may hold it).
  if [ -f "$data/postmaster.pid" ]; then
    pid=$(head -n 1 "$data/postmaster.pid")
    if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != postgres ]; then
      say "removing the stale $data/postmaster.pid (pid $pid runs no postgres)"
      rm -f "$data/postmaster.pid"
    fi
  fi
  say "starting $("$bindir/postgres" --version) on $host:$port"
  as_server "$bindir/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 start \
    -o "-h $host -p $port -k $data -c fsync=on" >/dev/null
fi

psql=("$bindir/psql" -X -q -h "$host" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1)
if [ "$("${psql[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'")" != 1 ]; then
  "${psql[@]}" -c "CREATE DATABASE test"
fi
say "ready at postgresql://postgres@$host:$port/test"
