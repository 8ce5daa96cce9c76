#!/usr/bin/env bash
#   Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
#   subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
#   of the MPL was not distributed with this file, You can obtain one at
#   https://mozilla.org/MPL/2.0/.
#   bench/common.sh - what every benchmark script shares (sourced, not run)
#
#   The build folder (ZCHAIN_BUILDDIR, set by `make bench`), the results
#   folder ($ZCHAIN_BUILDDIR/bench/results, or ZCHAIN_RESULTS), one temporary
#   folder per script, free loopback ports, zchaind processes that are always
#   stopped on exit, the machine as JSON, and result files: every result is
#   {"benchmark", "machine", "started", "figures": [...], "details": {...}}
#   where each figure has name, value, unit and, where there is one, its
#   reference measured in the same run, a ratio, a target and whether it
#   was met.  Needs bash, jq, sqlite3 and ss.

builddir=${ZCHAIN_BUILDDIR:-$(pwd)}
results=${ZCHAIN_RESULTS:-$builddir/bench/results}
zchaind=$builddir/src/programs/zchaind
zchain_cli=$builddir/src/programs/zchain-cli
zchain_load=$builddir/tools/load/zchain-load
bench_pids=()
bench_tmp=""

#   Says something on stderr, prefixed by the script's name.
say () {
    echo "$(basename "$0" .sh): $*" >&2
}

#   Stops the processes PIDS...: SIGTERM, then SIGKILL those still alive
#   after 10 s (said on stderr: zchaind should stop on SIGTERM), and reaps.
stop_pids () {
    local pid alive deadline=$((SECONDS + 10))
    for pid in "$@"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    while true; do
        alive=()
        for pid in "$@"; do
            if kill -0 "$pid" 2>/dev/null && [ "$(ps -o stat= -p "$pid" 2>/dev/null)" != Z ]; then
                alive+=("$pid")
            fi
        done
        [ ${#alive[@]} -eq 0 ] && break
        if [ $SECONDS -ge $deadline ]; then
            say "process(es) ${alive[*]} ignored SIGTERM for 10 s: killing them"
            kill -KILL "${alive[@]}" 2>/dev/null || true
            break
        fi
        sleep 0.1
    done
    for pid in "$@"; do
        wait "$pid" 2>/dev/null || true
    done
}

#   Stops every process we started (by pid) and removes the temporary folder.
bench_cleanup () {
    if [ ${#bench_pids[@]} -gt 0 ]; then
        stop_pids "${bench_pids[@]}"
    fi
    bench_pids=()
    if [ -n "$bench_tmp" ] && [ -z "${BENCH_KEEP:-}" ]; then
        rm -rf "$bench_tmp"
    fi
}

#   Sets up a script: results folder, temporary folder, cleanup on exit.
bench_init () {
    mkdir -p "$results"
    bench_tmp=$(mktemp -d "${TMPDIR:-/tmp}/zchain-bench-XXXXXX")
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}

#   Prints the machine as JSON: lscpu model name, online cores, load.
machine_json () {
    local model cores load
    model=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
    cores=$(nproc 2>/dev/null || echo 1)
    load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)
    jq -cn --arg model "${model:-unknown}" --argjson cores "$cores" \
        --argjson load "$load" --arg kernel "$(uname -r)" \
        '{model: $model, cores: $cores, load_average_at_start: $load, kernel: $kernel}'
}

#   Prints the current UTC time as YYYY-MM-DDTHH:MM:SS.ffffffZ.
now_timestamp () {
    date -u +%Y-%m-%dT%H:%M:%S.%6NZ
}

#   Prints one figure as JSON: name value unit [reference reference_value
#   [target_kind target]], where target_kind is "ratio_min" (value /
#   reference >= target), "max" (value < target) or "min" (value >= target).
figure_json () {
    local name=$1 value=$2 unit=$3 reference=${4:-} reference_value=${5:-null}
    local kind=${6:-} target=${7:-null}
    jq -cn --arg name "$name" --argjson value "$value" --arg unit "$unit" \
        --arg reference "$reference" --argjson reference_value "$reference_value" \
        --arg kind "$kind" --argjson target "$target" '
        {name: $name, value: $value, unit: $unit}
        + (if $reference != "" then {reference: $reference, reference_value: $reference_value}
           + (if ($reference_value // 0) > 0 then {ratio: ($value / $reference_value)} else {} end)
           else {} end)
        + (if $kind == "ratio_min" then {target: "ratio >= \($target)",
              met: (($reference_value // 0) > 0 and $value / $reference_value >= $target)}
           elif $kind == "max" then {target: "< \($target) \($unit)",
              met: ($value != null and $value < $target)}
           elif $kind == "min" then {target: ">= \($target) \($unit)",
              met: ($value != null and $value >= $target)}
           else {} end)'
}

#   Writes the result file NAME.json: name started figures-file details-json.
#   figures-file holds one figure JSON per line.
write_result () {
    local name=$1 started=$2 figures=$3 details=${4:-"{}"}
    jq -n --arg name "$name" --argjson machine "$(machine_json)" --arg started "$started" \
        --slurpfile figures "$figures" --argjson details "$details" \
        '{benchmark: $name, machine: $machine, started: $started, figures: $figures,
          details: $details}' > "$results/$name.json"
    say "wrote $results/$name.json"
}

#   Writes a result file for a benchmark that did not run: name reason.
write_skipped () {
    local name=$1 reason=$2
    jq -n --arg name "$name" --argjson machine "$(machine_json)" \
        --arg started "$(now_timestamp)" --arg reason "$reason" \
        '{benchmark: $name, machine: $machine, started: $started, skipped: $reason,
          figures: []}' > "$results/$name.json"
    say "skipped: $reason"
}

#   True if any TCP socket, in any state, has local port PORT.
port_busy () {
    [ -n "$(ss -Htan "sport = :$1" 2>/dev/null)" ]
}

#   Prints COUNT consecutive free ports from a random base below the
#   kernel's ephemeral range (outgoing connections take ports there), or
#   fails.
free_ports () {
    local count=$1 tries base port ok low
    low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
    [ "$low" -gt 12000 ] || low=32768
    for tries in $(seq 1 50); do
        base=$((10000 + (RANDOM * 32768 + RANDOM) % (low - 10000 - count)))
        ok=1
        for port in $(seq "$base" $((base + count - 1))); do
            if port_busy "$port"; then
                ok=0
                break
            fi
        done
        if [ "$ok" = 1 ]; then
            seq "$base" $((base + count - 1))
            return 0
        fi
        : "$tries"
    done
    say "no $count free consecutive ports"
    return 1
}

#   Writes a deployment config: file difficulty miners ports... (one node
#   each, data folders n1, n2, ... beside the file).  Extra sections come
#   from $extra_config when set.
write_config () {
    local file=$1 difficulty=$2 miners=$3 i=0 port data
    data=$(dirname "$file")
    shift 3
    {
        echo "network"
        echo "    difficulty = $difficulty"
        echo "    miners = $miners"
        echo "    max_mempool = 1000000"
        echo "node"
        for port in "$@"; do
            i=$((i + 1))
            echo "    n$i"
            echo "        host = 127.0.0.1"
            echo "        port = $port"
            echo "        data = $data/n$i"
        done
        if [ -n "${extra_config:-}" ]; then
            printf '%s\n' "$extra_config"
        fi
    } > "$file"
}

#   Starts zchaind on a config for the instances named; logs to LOG.
start_zchaind () {
    local config=$1 log=$2
    shift 2
    "$zchaind" -c "$config" "$@" 2>"$log" &
    bench_pids+=($!)
}

#   Waits until the node at ADDRESS answers ping (up to 30 s); on failure
#   shows the end of LOG, if given.
wait_ping () {
    local address=$1 log=${2:-} deadline=$((SECONDS + 30))
    while [ $SECONDS -lt $deadline ]; do
        if "$zchain_cli" -a "$address" ping >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
    done
    say "node $address never answered ping"
    if [ -n "$log" ] && [ -f "$log" ]; then
        tail -n 5 "$log" >&2
    fi
    return 1
}

#   Stops the processes started since index FIRST of bench_pids (by pid).
stop_since () {
    local first=$1
    if [ ${#bench_pids[@]} -gt "$first" ]; then
        stop_pids "${bench_pids[@]:$first}"
    fi
    bench_pids=("${bench_pids[@]:0:$first}")
}

#   Starts a deployment in DIR: NODES nodes at DIFFICULTY (one miner
#   thread each), a gateway and a server section; SERVER is "start" to run
#   the reference server too, or "external" when something else (zchain-load
#   --notify-listen) listens at its address.  Sets deploy_gateway,
#   deploy_server ("host:port") and deploy_first (for stop_since).
deploy () {
    local dir=$1 difficulty=$2 nodes=$3 server=$4 ports=() i
    mkdir -p "$dir"
    mapfile -t ports < <(free_ports $((nodes + 2)))
    deploy_gateway=127.0.0.1:${ports[$nodes]}
    # shellcheck disable=SC2034  # used by the scripts that source this
    deploy_server=127.0.0.1:${ports[$((nodes + 1))]}
    extra_config="gateway
    host = 127.0.0.1
    port = ${ports[$nodes]}
    data = $dir/gateway
server
    host = 127.0.0.1
    port = ${ports[$((nodes + 1))]}
    data = $dir/server"
    write_config "$dir/zchain.conf" "$difficulty" 1 "${ports[@]:0:$nodes}"
    extra_config=""
    local names=()
    for i in $(seq 1 "$nodes"); do
        names+=("n$i")
    done
    names+=(gateway)
    [ "$server" = start ] && names+=(server)
    # shellcheck disable=SC2034  # used by the scripts that source this
    deploy_first=${#bench_pids[@]}
    start_zchaind "$dir/zchain.conf" "$dir/zchaind.log" "${names[@]}"
    for i in $(seq 1 "$nodes"); do
        wait_ping "127.0.0.1:${ports[$((i - 1))]}" "$dir/zchaind.log"
    done
    local deadline=$((SECONDS + 30))
    until "$zchain_cli" -a "$deploy_gateway" health >/dev/null 2>&1; do
        if [ $SECONDS -ge $deadline ]; then
            say "gateway $deploy_gateway never answered health"
            tail -n 5 "$dir/zchaind.log" >&2
            return 1
        fi
        sleep 0.1
    done
    sleep 0.5                           #   let every peer link come up
}

#   Prints a number from a zchain-load report: file jq-path (null if absent).
report_value () {
    if [ -s "$1" ]; then
        jq -c "$2 // null" "$1"
    else
        echo null
    fi
}

#   True if zchain-load exists and its --help mentions --json.
zchain_load_ready () {
    [ -x "$zchain_load" ] && "$zchain_load" --help 2>&1 | grep -q -- '--json'
}
