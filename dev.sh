#!/usr/bin/env bash
#   Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
#   subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
#   of the MPL was not distributed with this file, You can obtain one at
#   https://mozilla.org/MPL/2.0/.
#   dev.sh - set-up, build, run and test zchain on a Debian/Ubuntu host
#
#   ./dev.sh network   install build dependencies, build, start the local
#                      network of etc/zchain.conf (data under var/) and show
#                      a purchase go from the gateway to every node's
#                      confirmation at the marketplace server
#   ./dev.sh test      install build dependencies, build, and run the whole
#                      test suite: make check in a plain build and in an
#                      AddressSanitizer + UndefinedBehaviorSanitizer build,
#                      the unit tests under valgrind, every fuzz target
#                      for 10 s (clang's libFuzzer), and make distcheck
#                      (the release tarball builds, tests, installs and
#                      uninstalls cleanly)
#   ./dev.sh bench     install what the benchmarks use too (jq, and
#                      redis-server for the PING reference), build, and run
#                      make bench (doc/PERFORMANCE.md)
#   ./dev.sh deps      only install the build dependencies
set -euo pipefail
cd "$(dirname "$0")"
top=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)

#   The Debian packages zchain builds and tests with
packages=(build-essential autoconf automake libtool pkg-config
          libzmq3-dev libczmq-dev libcjson-dev libssl-dev libsqlite3-dev check
          sqlite3 valgrind iproute2 man-db
          clang)

#   Installs whatever of the packages is missing (as root, or with sudo).
deps () {
    local missing=()
    for package in "${packages[@]}" "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" \
            || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "dev.sh: installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

#   Configures and builds in build-NAME with extra configure flags.
build () {
    local name=$1; shift
    [ -x configure ] || ./bootstrap.sh
    mkdir -p "build-$name"
    ( cd "build-$name"
      [ -f Makefile ] || "$top/configure" -q "$@"
      make -s -j"$jobs" >/dev/null )
}

#   Runs make check in a build folder; prints each test program's summary,
#   and what make said if it stopped before running the tests.
check () {
    local name=$1 status=0
    ( cd "build-$name" && make -s -j"$jobs" check >check.out 2>&1 ) || status=1
    local logs=("build-$name"/tests/*/test_*.log)
    if [ ! -e "${logs[0]}" ]; then
        echo "$name: make check ran no test:"; tail -n 20 "build-$name/check.out"
        return 1
    fi
    for log in "${logs[@]}"; do
        printf '%-8s %-28s %s\n' "$name" "$(basename "$log" .log)" \
            "$(grep -h 'Checks:' "$log" | tail -n 1)"
        grep -h -E ':[EF]:' "$log" | head -n 20 || true
    done
    return $status
}

#   make distcheck in the plain build: the tarball (bench scripts, man
#   pages, unit templates included) configures, builds, passes make check
#   and installs and uninstalls under a prefix of its own.
distcheck () {
    if ( cd build-plain && make -s -j"$jobs" distcheck >distcheck.out 2>&1 ); then
        echo "plain    distcheck                    $(grep -h 'archives ready' build-plain/distcheck.out | head -n 1)"
    else
        echo "plain    distcheck                    FAILED:"
        tail -n 30 build-plain/distcheck.out
        return 1
    fi
}

#   Prints the closing line from the Check summaries of every build.
summary () {
    local passed=0 failed=0 line checks failures errors
    while read -r line; do
        checks=$(sed -E 's/.*Checks: ([0-9]+).*/\1/' <<<"$line")
        failures=$(sed -E 's/.*Failures: ([0-9]+).*/\1/' <<<"$line")
        errors=$(sed -E 's/.*Errors: ([0-9]+).*/\1/' <<<"$line")
        failed=$((failed + failures + errors))
        passed=$((passed + checks - failures - errors))
    done < <(grep -h 'Checks:' build-*/tests/*/test_*.log 2>/dev/null)
    echo "tests: $passed passed, $failed failed"
}

#   Polls a command until it succeeds or the deadline (seconds) passes.
wait_for () {
    local deadline=$(( $(date +%s) + $1 )); shift
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -ge "$deadline" ] && return 1
        sleep 0.2
    done
}

#   Pins the nodes' keys (issue 9): `zchaind --init` makes the node keys
#   var/ lacks and prints the `key = ...` line of each; var/zchain.conf is
#   the sample config with those lines under their nodes (and data paths
#   made absolute), so the demo runs with every node's key pinned.
pin_keys () {
    local sample=$1 conf=$2 bin=$3
    "$bin/zchaind" -c "$sample" --init >var/keys.txt
    awk -v top="$top" '
        FNR == NR { if ($1 ~ /^#/ && $2 ~ /^node\//) { split ($2, part, "[/:]"); name = part [2] }
                    else if ($1 == "key") key [name] = $3
                    next }
        /^[a-z]/ { section = $1 }
        { sub (/= var\//, "= " top "/var/") }
        { print }
        section == "node" && /^    [a-z0-9_-]+[ \t]*(#.*)?$/ && ($1 in key) {
            print "        key = \"" key [$1] "\""
        }' var/keys.txt "$sample" >"$conf"
    echo "== node keys pinned in $conf:"
    grep -E '^    [a-z]|^        key =' "$conf" | grep -B1 '^        key =' | grep -v -- '--' | sed 's/^/   /'
}

#   The main job: the sample network on loopback (five nodes, the gateway
#   and the marketplace server), and one purchase followed from its
#   submission to its confirmation by every node.
network () {
    local sample="$top/etc/zchain.conf" conf="$top/var/zchain.conf"
    local bin="$top/build-plain/src/programs"
    local gateway=127.0.0.1:13300 server=127.0.0.1:13400
    mkdir -p var
    pin_keys "$sample" "$conf" "$bin"
    "$bin/zchaind" -c "$conf" &
    local daemon=$!
    trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null; exit 0' INT TERM
    wait_for 20 "$bin/zchain-cli" -a $gateway health \
        && wait_for 20 "$bin/zchain-cli" -a $server health \
        || { echo "dev.sh: the network did not start"; kill $daemon; exit 1; }
    echo "== submitting a purchase to the gateway at $gateway"
    local reply tx
    reply=$("$bin/zchain-cli" -a $gateway purchase --buyer alice --seller bob \
        --asset-id lamp-1 --asset-name "Desk lamp" --price 12.34)
    echo "$reply" | sed 's/^/   /'
    tx=$(awk '/^transaction/ {print $2}' <<<"$reply")
    echo "== waiting for every node to confirm $tx"
    local nodes; nodes=$(awk '/^node/ {n=1; next} /^[a-z]/ {n=0} n && /^    [a-z]/ {c++} END {print c}' "$conf")
    confirmed_by_all () {
        "$bin/zchain-cli" -a $server --json confirmed "$tx" | grep -q "\"nodes\":$nodes"
    }
    if wait_for 120 confirmed_by_all; then
        "$bin/zchain-cli" -a $server confirmed "$tx" | sed 's/^/   /'
    else
        echo "   not confirmed by all $nodes nodes yet:"
        "$bin/zchain-cli" -a $server confirmed "$tx" | sed 's/^/   /'
    fi
    echo "== the network runs on (logs above, data in var/); press Ctrl-C to stop it"
    wait $daemon
}

case "${1:-}" in
    deps)
        deps ;;
    bench)
        deps jq redis-server
        build plain
        ( cd build-plain && make -s bench ) ;;
    test)
        deps
        build plain
        build asan --enable-sanitizers
        status=0
        check plain || status=1
        check asan || status=1
        ( cd build-plain && make -s check-valgrind ) || status=1
        #   Every libFuzzer target briefly, from its seed corpus (doc/FUZZING.md)
        build fuzz --enable-fuzzing CC=clang
        ( cd build-fuzz && make -s fuzz FUZZ_SECONDS=10 FUZZ_JOBS="$jobs" ) || status=1
        distcheck || status=1
        summary
        exit $status ;;
    network)
        deps
        build plain
        network ;;
    *)
        sed -n '6,21p' "$0" | sed 's/^# \{0,3\}//'
        exit 2 ;;
esac
