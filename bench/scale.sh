#!/usr/bin/env bash
#   bench/scale.sh - a node's memory, start-up and sync against its chain's length
#
#       ZCHAIN_BUILDDIR=BUILD bench/scale.sh
#
#   For each size in SCALE_SIZES (default 10000 100000 1000000 transactions):
#   bench_scale writes a chain of that many signed transactions, 200 to a
#   block mined at difficulty 2 (the setting of issue 13's measurements),
#   straight into node n1's ledger; then one zchaind runs n1 on it and we
#   measure
#     - start-up: launching zchaind until `zchain-cli ping` is answered;
#     - RSS after start (1 s after the first pong);
#     - get_blocks of an old range (from index 1: blocks no node holds in
#       memory), one block and a full reply, median of 20 on one connection;
#     - sync: a fresh node n2 in its own zchaind, launched beside n1, until
#       its height equals n1's; transactions per second of that time, and
#       n2's RSS when done;
#     - RSS after SCALE_LOAD_SECONDS (default 60) of zchain-load, 20 clients
#       in closed loop sending NEW_TRANSACTION straight to n1;
#     - what "is this transaction in the chain" costs from the ledger's index
#       (bench_scale has-tx), to decide whether a filter in front would pay.
#   Targets (issue 13): RSS at the largest size within 1.25 x RSS at the
#   smallest and under 64 MB; start-up under 1 s at every size; sync of the
#   largest chain at >= 20,000 tx/s.  Writes $results/scale.json.
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"

sizes=${SCALE_SIZES:-10000 100000 1000000}
load_seconds=${SCALE_LOAD_SECONDS:-60}
per_block=200
difficulty=2
bench_scale=$builddir/bench/bench_scale

#   Resident set of a process in kB.
rss_kb () {
    ps -o rss= -p "$1" | tr -d ' '
}

#   Milliseconds since the epoch.
now_ms () {
    echo $(($(date +%s%N) / 1000000))
}

#   Height of the node at ADDRESS, or -1.
height_of () {
    "$zchain_cli" -a "$1" --json status 2>/dev/null | jq -r '.height // -1' 2>/dev/null \
        || echo -1
}

#   Runs one size; appends one JSON line to DETAILS.
run_size () {
    local txs=$1 details=$2 dir ports=() n1 n2 config
    dir=$bench_tmp/s$txs
    mkdir -p "$dir/n1" "$dir/n2"
    mapfile -t ports < <(free_ports 2)
    n1=127.0.0.1:${ports[0]}
    n2=127.0.0.1:${ports[1]}
    config=$dir/zchain.conf
    cat > "$config" <<EOF
network
    difficulty = $difficulty
    miners = 1
    max_block_txs = $per_block
    max_mempool = 1000000
node
    n1
        host = 127.0.0.1
        port = ${ports[0]}
        data = $dir/n1
    n2
        host = 127.0.0.1
        port = ${ports[1]}
        data = $dir/n2
EOF
    say "$txs transactions: building the chain"
    local build
    build=$("$bench_scale" build "$dir/n1/node_${ports[0]}.sqlite3" "$txs" "$per_block" \
            "$difficulty")
    local lookups
    lookups=$("$bench_scale" has-tx "$dir/n1/node_${ports[0]}.sqlite3" 100000)

    #   Start-up: launch to first pong
    local first=${#bench_pids[@]} started startup_ms pid1
    started=$(now_ms)
    start_zchaind "$config" "$dir/n1.log" n1
    pid1=${bench_pids[-1]}
    until "$zchain_cli" -a "$n1" ping >/dev/null 2>&1; do
        if ! kill -0 "$pid1" 2>/dev/null || [ $(($(now_ms) - started)) -gt 60000 ]; then
            say "n1 never answered ping"
            tail -n 5 "$dir/n1.log" >&2
            return 1
        fi
        sleep 0.01
    done
    startup_ms=$(($(now_ms) - started))
    sleep 1
    local rss_start height
    rss_start=$(rss_kb "$pid1")
    height=$(height_of "$n1")
    say "$txs transactions: height $height, up in $startup_ms ms, RSS $rss_start kB"

    #   Old blocks, from the ledger
    local one range
    one=$("$bench_scale" get-blocks "$n1" 1 1 20)
    range=$("$bench_scale" get-blocks "$n1" 1 256 20)

    #   A fresh node syncs the chain
    local pid2 sync_ms rss_sync deadline
    started=$(now_ms)
    start_zchaind "$config" "$dir/n2.log" n2
    pid2=${bench_pids[-1]}
    deadline=$((SECONDS + 1200))
    while [ "$(height_of "$n2")" != "$height" ]; do
        if ! kill -0 "$pid2" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
            say "n2 did not sync to height $height"
            tail -n 5 "$dir/n2.log" >&2
            return 1
        fi
        sleep 0.1
    done
    sync_ms=$(($(now_ms) - started))
    rss_sync=$(rss_kb "$pid2")
    stop_pids "$pid2"
    unset 'bench_pids[-1]'
    say "$txs transactions: synced in $sync_ms ms, n2 RSS $rss_sync kB"

    #   Load
    "$zchain_load" -a "$n1" --nodes --clients 20 --duration "$load_seconds" \
        --json "$dir/load.json" > "$dir/load.out" 2>&1 || true
    local rss_load load_rate
    rss_load=$(rss_kb "$pid1")
    load_rate=$(jq -c '.total.throughput // null' "$dir/load.json" 2>/dev/null \
                || echo null)
    say "$txs transactions: RSS after ${load_seconds} s of load $rss_load kB"
    stop_since "$first"

    jq -cn --argjson txs "$txs" --argjson height "$height" --argjson build "$build" \
        --argjson lookups "$lookups" --argjson startup_ms "$startup_ms" \
        --argjson rss_start "$rss_start" --argjson rss_load "$rss_load" \
        --argjson one "$one" --argjson range "$range" --argjson sync_ms "$sync_ms" \
        --argjson rss_sync "$rss_sync" --argjson load_rate "${load_rate:-null}" \
        '{txs: $txs, height: $height, build: $build, tx_lookup: $lookups,
          startup_ms: $startup_ms, rss_start_kb: $rss_start, rss_load_kb: $rss_load,
          get_blocks_one: $one, get_blocks_range: $range, sync_ms: $sync_ms,
          sync_tx_per_s: ($txs * 1000 / $sync_ms), rss_synced_node_kb: $rss_sync,
          load_rate: $load_rate}' >> "$details"
}

main () {
    bench_init
    local started figures details size
    started=$(now_timestamp)
    figures=$bench_tmp/figures.jsonl
    details=$bench_tmp/details.jsonl
    : > "$figures"
    : > "$details"
    if [ ! -x "$bench_scale" ]; then
        write_skipped scale "bench/bench_scale not built"
        return 0
    fi
    for size in $sizes; do
        run_size "$size" "$details"
    done
    local smallest largest
    smallest=$(head -1 "$details")
    largest=$(tail -1 "$details")
    while read -r line; do
        local txs
        txs=$(jq .txs <<< "$line")
        {
            figure_json "start-up to ping, $txs tx" "$(jq .startup_ms <<< "$line")" ms \
                "" null max 1000
            figure_json "RSS after start, $txs tx" "$(jq '.rss_start_kb / 1024' <<< "$line")" MB \
                "at $(jq .txs <<< "$smallest") tx" "$(jq '.rss_start_kb / 1024' <<< "$smallest")"
            figure_json "RSS after ${load_seconds} s of load, $txs tx" \
                "$(jq '.rss_load_kb / 1024' <<< "$line")" MB \
                "at $(jq .txs <<< "$smallest") tx" "$(jq '.rss_load_kb / 1024' <<< "$smallest")" \
                max 64
            figure_json "get_blocks of block 1, $txs tx" \
                "$(jq .get_blocks_one.ms_p50 <<< "$line")" ms
            figure_json "get_blocks from block 1 ($(jq .get_blocks_range.blocks <<< "$line") blocks), $txs tx" \
                "$(jq .get_blocks_range.ms_p50 <<< "$line")" ms
            figure_json "fresh node sync, $txs tx" "$(jq .sync_tx_per_s <<< "$line")" "tx/s"
            figure_json "tx lookup in the ledger (absent id), $txs tx" \
                "$(jq .tx_lookup.miss_us <<< "$line")" us
        } >> "$figures"
    done < "$details"
    {
        figure_json "RSS after start, largest / smallest chain" \
            "$(jq -n --argjson a "$largest" --argjson b "$smallest" \
               '$a.rss_start_kb / $b.rss_start_kb')" x "" null max 1.25
        figure_json "RSS after load, largest / smallest chain" \
            "$(jq -n --argjson a "$largest" --argjson b "$smallest" \
               '$a.rss_load_kb / $b.rss_load_kb')" x "" null max 1.25
        figure_json "fresh node sync of the largest chain" \
            "$(jq .sync_tx_per_s <<< "$largest")" "tx/s" "" null min 20000
    } >> "$figures"
    write_result scale "$started" "$figures" \
        "$(jq -cs --argjson seconds "$load_seconds" \
            '{chain: "signed transactions, 200 to a block, difficulty 2, written by bench_scale into n1 ledger",
              load: "zchain-load --nodes, 20 clients closed loop, \($seconds) s",
              sizes: .}' "$details")"
}

main "$@"
