#!/usr/bin/env bash
#   Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
#   subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
#   of the MPL was not distributed with this file, You can obtain one at
#   https://mozilla.org/MPL/2.0/.
#
#   test_install.sh - zchain as a user installs it
#
#   Installs the build with `make install DESTDIR=` a temporary folder,
#   then checks, as a new user would find them:
#     - the programs, the sample config, the man pages (rendered with
#       man -l where man-db is installed) and, if configured, the systemd
#       unit, which passes `systemd-analyze verify` where that tool exists
#       (on a copy whose paths point into the temporary folder);
#     - the installed zchaind, started from / with the installed sample
#       config (ports changed), keeps node n1's data under the prefix's
#       state folder, and has the same node_id after a restart from
#       another directory;
#     - SIGHUP reopens --log-file and leaves the daemon and its ledger
#       intact.
#   Run by make check (paths from the Makefile's environment); every
#   process it starts is stopped by its pid.
set -u
: "${ZCHAIN_BUILDDIR:?run under make check}" "${ZCHAIN_BINDIR:?}" "${ZCHAIN_SYSCONFDIR:?}"
: "${ZCHAIN_LOCALSTATEDIR:?}" "${ZCHAIN_MANDIR:?}"
checks=0
failures=0
pids=()
dest=$(mktemp -d "${TMPDIR:-/tmp}/zchain-install-XXXXXX")

finish () {
    local pid
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    if [ "$failures" -eq 0 ]; then
        rm -rf "$dest"
    else
        echo "test_install: files kept in $dest" >&2
        for log in "$dest"/*.log; do
            [ -f "$log" ] && { echo "---- $log"; tail -n 30 "$log"; }
        done >&2
    fi
    echo "$(( (checks - failures) * 100 / (checks > 0 ? checks : 1) ))%: Checks: $checks, Failures: $failures, Errors: 0"
}
trap finish EXIT

#   check DESCRIPTION COMMAND...: runs the command, counts a failure if it fails
check () {
    local what=$1; shift
    checks=$((checks + 1))
    if ! "$@"; then
        echo "test_install: FAILED: $what" >&2
        failures=$((failures + 1))
        return 1
    fi
}

#   Polls a command until it succeeds or the deadline (seconds) passes.
wait_for () {
    local deadline=$(( $(date +%s) + $1 )); shift
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -ge "$deadline" ] && return 1
        sleep 0.1
    done
}

#   A free loopback port: one nothing answers on, not handed out before.
used_ports=" "
free_port () {
    local port
    while true; do
        #   below the kernel's ephemeral range (32768 on), which other
        #   tests' outgoing connections draw from
        port=$(( 20000 + RANDOM % 12000 ))
        case "$used_ports" in *" $port "*) continue ;; esac
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            used_ports="$used_ports$port "
            echo "$port"
            return
        fi
    done
}

#   1. Install
check "make install DESTDIR=$dest" \
    make -s -C "$ZCHAIN_BUILDDIR" install DESTDIR="$dest" >"$dest/install.log" 2>&1 || exit 1
bin=$dest$ZCHAIN_BINDIR
conf=$dest$ZCHAIN_SYSCONFDIR/zchain/zchain.conf
state=$dest$ZCHAIN_LOCALSTATEDIR/lib/zchain
for program in zchaind zchain-cli zchain-load; do
    check "$program installed" test -x "$bin/$program"
    check "$program --version" sh -c "'$bin/$program' --version | grep -q '^$program [0-9]'"
done
check "sample config at \$(sysconfdir)/zchain/zchain.conf" test -f "$conf"
check "state folder \$(localstatedir)/lib/zchain made" test -d "$state"
check "sample config keeps data under \$(localstatedir)/lib/zchain" \
    grep -q "data = .*var/lib/zchain/n1" "$conf"

#   2. Man pages: installed and rendered
for page in man8/zchaind.8 man1/zchain-cli.1 man1/zchain-load.1 man5/zchain.conf.5; do
    path=$dest$ZCHAIN_MANDIR/$page
    check "$page installed" test -f "$path" || continue
    if command -v man >/dev/null 2>&1; then
        check "$page renders" sh -c "MANWIDTH=80 man -l '$path' 2>'$dest/man.err' | grep -q 'SYNOPSIS' \
                                     && ! grep -q . '$dest/man.err'"
    fi
done

#   3. The systemd unit, where configured
if [ -n "${ZCHAIN_UNITDIR:-}" ]; then
    unit=$dest$ZCHAIN_UNITDIR/zchaind@.service
    check "zchaind@.service installed" test -f "$unit"
    check "unit reloads with SIGHUP" grep -q '^ExecReload=/bin/kill -HUP \$MAINPID' "$unit"
    check "unit is hardened" grep -q '^ProtectSystem=strict' "$unit"
    if command -v systemd-analyze >/dev/null 2>&1; then
        mkdir -p "$dest/verify"
        sed "s|$ZCHAIN_BINDIR/|$bin/|g" "$unit" >"$dest/verify/zchaind@.service"
        check "systemd-analyze verify zchaind@.service" \
            env MANPATH="$dest$ZCHAIN_MANDIR" systemd-analyze verify \
                "$dest/verify/zchaind@.service" >"$dest/verify.log" 2>&1
        systemd-analyze security --offline=yes "$dest/verify/zchaind@.service" 2>/dev/null \
            | tail -n 1 | sed 's/^/test_install: systemd-analyze security: /'
    else
        echo "test_install: systemd-analyze not found: unit not verified"
    fi
fi

#   4. The installed daemon from /, with the installed sample (ports
#   changed so that nothing on this host collides)
sed -i -e "s/port = 13246/port = $(free_port)/" -e "s/port = 13247/port = $(free_port)/" \
       -e "s/port = 13248/port = $(free_port)/" -e "s/port = 13249/port = $(free_port)/" \
       -e "s/port = 13250/port = $(free_port)/" -e "s/port = 13300/port = $(free_port)/" \
       -e "s/port = 13400/port = $(free_port)/" -e "s/difficulty = 4 /difficulty = 1 /" "$conf"
n1=127.0.0.1:$(awk '/^    n1/ {n=1} n && /port =/ {print $3; exit}' "$conf")
#   Starts the installed zchaind on n1 from a directory; its pid in $pid.
start () {
    local dir=$1; shift
    ( cd "$dir" && exec "$bin/zchaind" -c "$conf" "$@" n1 ) >/dev/null 2>>"$dest/zchaind.log" &
    pid=$!
    pids+=("$pid")
}
stop () {
    kill -TERM "$1" && wait "$1"
    local status=$?
    pids=("${pids[@]/$1}")
    return $status
}
node_id () {
    "$bin/zchain-cli" -a "$n1" --timeout 5 --json ping | sed -n 's/.*"node_id":"\([^"]*\)".*/\1/p'
}
start / --log-file="$dest/n1.log"
check "installed zchaind answers, started from /" "$bin/zchain-cli" -a "$n1" --wait=30 ping >/dev/null
first=$(node_id)
check "node_id known" test -n "$first"
check "data under the prefix's state folder" test -f "$state/n1/node_id"
check "node_id file holds the node_id" grep -qx "$first" "$state/n1/node_id"
ledger=$(ls "$state/n1"/node_*.sqlite3 2>/dev/null | head -n 1)
check "ledger under the prefix's state folder" test -n "$ledger"
check "nothing made in / (var/lib/zchain relative to /)" test ! -e "/n1"

#   SIGHUP: the log is reopened, the daemon lives, the ledger is intact
mv "$dest/n1.log" "$dest/n1.log.1"
kill -HUP "$pid"
check "SIGHUP reopens the log file" wait_for 10 grep -q "SIGHUP: log reopened" "$dest/n1.log"
check "daemon alive after SIGHUP" kill -0 "$pid"
check "daemon answers after SIGHUP" "$bin/zchain-cli" -a "$n1" --timeout 5 ping >/dev/null
check "log lines are UTC ISO 8601 with milliseconds" \
    grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z [EWNID] zchaind\[' \
    "$dest/n1.log.1"
check "zchaind stops cleanly on SIGTERM" stop "$pid"
if command -v sqlite3 >/dev/null 2>&1; then
    check "ledger intact after SIGHUP and stop" \
        sh -c "sqlite3 '$ledger' 'PRAGMA integrity_check' | grep -qx ok"
fi

#   Restart from another directory: the same node_id, the same ledger
mkdir -p "$dest/elsewhere"
start "$dest/elsewhere"
check "restarted from another directory" "$bin/zchain-cli" -a "$n1" --wait=30 ping >/dev/null
second=$(node_id)
check "same node_id after the restart ($first, $second)" test "$first" = "$second"
check "no data folder made in the working directory" test ! -e "$dest/elsewhere/var"
check "zchaind stops cleanly again" stop "$pid"
[ "$failures" -eq 0 ]
