#!/bin/sh
# scripts/pg.sh - a throwaway PostgreSQL cluster for tests.
#
#   scripts/pg.sh start DIR PORT   create a cluster in DIR, start it on
#                                  127.0.0.1:PORT (socket in DIR), create the
#                                  database "atelier" and print its URL
#   scripts/pg.sh stop DIR         stop it (fast) and remove DIR
#
# Works as root (initdb and postgres then run as the "postgres" user) or as
# an ordinary user. Uses $(pg_config --bindir), never PATH, to find initdb.
# DIR must be absolute, short (it holds the Unix socket) and outside /root.
# Only the URL goes to stdout; progress and errors go to stderr.
# The cluster trades durability for speed (fsync, synchronous_commit and
# full_page_writes off), as a test's should; PG_DURABLE=1 keeps
# PostgreSQL's defaults instead (every commit flushed), for benchmarks of
# what a production server pays (bench/run.sh passes it through).
set -eu

MARK=.atelier-pg-cluster

die() {
    echo "pg.sh: $*" >&2
    exit 1
}

usage() {
    echo "usage: $0 start DIR PORT | stop DIR" >&2
    exit 2
}

pg_bindir() {
    d=""
    if command -v pg_config >/dev/null 2>&1; then
        d=$(pg_config --bindir 2>/dev/null || true)
    fi
    if [ -z "$d" ] || [ ! -x "$d/initdb" ]; then
        # pg_config may come from a libpq without the server: take the
        # newest installed server.
        d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    fi
    [ -n "$d" ] && [ -x "$d/initdb" ] || die "no PostgreSQL server binaries found"
    echo "$d"
}

# Run a command as the cluster's owner.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

check_dir() {
    case "$1" in
    /*) ;;
    *) die "DIR must be an absolute path: $1" ;;
    esac
    case "$1" in
    /root | /root/*) die "DIR must not be under /root (postgres cannot reach it)" ;;
    esac
    [ "${#1}" -le 80 ] || die "DIR is too long for a Unix socket path: $1"
}

start() {
    dir=$1
    port=$2
    check_dir "$dir"
    case "$port" in
    '' | *[!0-9]*) die "PORT must be a number: $port" ;;
    esac
    bin=$(pg_bindir)
    if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
        die "$dir exists and is not empty"
    fi
    mkdir -p "$dir"
    touch "$dir/$MARK"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres:postgres "$dir"
    fi
    chmod 0700 "$dir"
    as_owner test -w "$dir" || die "the postgres user cannot write $dir (check its parents)"

    durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    if [ "${PG_DURABLE:-0}" = 1 ]; then
        durability=""
    fi
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 \
        --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 ||
        {
            cat "$dir/initdb.log" >&2
            die "initdb failed"
        }
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 $durability" \
        start >/dev/null 2>&1 ||
        {
            tail -n 20 "$dir/server.log" >&2 || true
            die "postgres did not start"
        }
    tries=0
    until as_owner "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres; do
        tries=$((tries + 1))
        [ "$tries" -lt 100 ] || die "postgres is not ready on port $port"
        sleep 0.1
    done
    as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres atelier ||
        die "createdb failed"
    echo "postgresql://postgres@127.0.0.1:$port/atelier"
}

stop() {
    dir=$1
    check_dir "$dir"
    [ -d "$dir" ] || die "$dir does not exist"
    [ -e "$dir/$MARK" ] || die "$dir was not made by pg.sh start; not touching it"
    if [ -f "$dir/data/postmaster.pid" ]; then
        bin=$(pg_bindir)
        as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null ||
            die "pg_ctl stop failed"
    fi
    rm -rf -- "$dir"
}

[ $# -ge 1 ] || usage
case "$1" in
start)
    [ $# -eq 3 ] || usage
    start "$2" "$3"
    ;;
stop)
    [ $# -eq 2 ] || usage
    stop "$2"
    ;;
*) usage ;;
esac
