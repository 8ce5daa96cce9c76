#!/usr/bin/env bash
#   Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
#   subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
#   of the MPL was not distributed with this file, You can obtain one at
#   https://mozilla.org/MPL/2.0/.
#   bench/propagation.sh - time from a block found to its commit on every node
#
#       ZCHAIN_BUILDDIR=BUILD bench/propagation.sh [NODES...]   (default: 5 20)
#
#   For each network size: NODES zchaind processes (one per node, full mesh,
#   one miner thread each, difficulty 2) on free loopback ports, data in a
#   temporary folder.  Two phases, one block every INTERVAL seconds so the
#   previous block has long settled:
#     injected blocks: bench_mining inject mines a chain of one-transaction
#       blocks itself and sends each as new_block to one node in turn; no
#       node has the transaction, so none is mining: propagation alone;
#     all nodes mining: one signed transaction submitted to one node in
#       turn; it relays it, every node mines it, the lowest hash wins, so
#       forks and rollbacks are part of what is measured.
#   When every ledger holds every transaction and all agree on the tip,
#   the ledgers are read: each
#   transactions row's end_timestamp is when that node committed the block.
#   Per block of the final chain, the earliest end_timestamp among nodes is
#   "found" (the miner commits its own block before it announces it) and
#   the latest is "on every node"; propagation = latest - earliest.  The
#   second earliest gives the first hop, the reference.  (The block's own
#   timestamp is when its job started, so it would count mining time.)
#   Forks are counted from the "rolled back" lines of the node logs.
#   Writes $results/propagation.json.
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"

difficulty=${PROPAGATION_DIFFICULTY:-2}

#   Microseconds since the epoch of an end_timestamp column, in SQL.
usecs_sql="(CAST(strftime('%s', substr(end_timestamp, 1, 19)) AS INTEGER) * 1000000
            + CAST(substr(end_timestamp, 21, 6) AS INTEGER))"

#   Prints the nearest-rank percentile P of column v of table T, in SQL.
percentile_sql () {
    local table=$1 p=$2
    echo "(SELECT v FROM (SELECT v, row_number () OVER (ORDER BY v) AS rn,
                                 count (*) OVER () AS cnt FROM $table)
           WHERE rn = max (1, (cnt * $p + 99) / 100))"
}

#   Prints how many transactions the ledger FILE holds and its tip hash.
ledger_state () {
    sqlite3 "$1" "SELECT (SELECT count (*) FROM transactions) || ' ' ||
                  (SELECT current_hash FROM blocks ORDER BY \"index\" DESC LIMIT 1)" \
        2>/dev/null || echo "0 none"
}

#   Waits until every ledger holds count transactions and one tip (60 s).
await_convergence () {
    local count=$1 deadline=$((SECONDS + 60)) ledger states
    shift
    while [ $SECONDS -lt $deadline ]; do
        states=$(for ledger in "$@"; do ledger_state "$ledger"; done | sort -u)
        if [ "$(echo "$states" | wc -l)" = 1 ] && [ "${states%% *}" = "$count" ]; then
            return 0
        fi
        sleep 0.3
    done
    say "ledgers did not converge: $(for ledger in "$@"; do ledger_state "$ledger"; done \
        | sort | uniq -c | tr '\n' ';')"
    return 1
}

#   Prints "rollbacks" so far: "rolled back" lines of every log in DIR.
rollbacks () {
    cat "$1"/n*.log | grep -c "rolled back" || true
}

#   Measures the blocks whose transactions carry "mode":TAG in the NODES
#   ledgers; prints "count p50 p90 p99 max hop50 hop99" in microseconds.
measure () {
    local dir=$1 tag=$2 nodes=$3 i
    shift 3
    local rows=$dir/$tag.csv db=$dir/$tag.sqlite3
    : > "$rows"
    for i in $(seq 1 "$nodes"); do
        sqlite3 -csv "$1" "SELECT $i, block_hash, min ($usecs_sql) FROM transactions
                           WHERE data LIKE '%\"mode\":\"$tag\"%' GROUP BY block_hash" >> "$rows"
        shift
    done
    sqlite3 "$db" "CREATE TABLE c (node INTEGER, block TEXT, us INTEGER)"
    sqlite3 "$db" ".import --csv $rows c"
    sqlite3 "$db" "
        CREATE TABLE spread AS SELECT block, max (us) - min (us) AS v,
            (SELECT min (us) FROM c AS o WHERE o.block = c.block
                 AND o.us > (SELECT min (us) FROM c AS f WHERE f.block = c.block))
             - min (us) AS hop
            FROM c GROUP BY block HAVING count (DISTINCT node) = $nodes;
        CREATE TABLE hops AS SELECT coalesce (hop, 0) AS v FROM spread;"
    sqlite3 -separator ' ' "$db" "SELECT count (*), $(percentile_sql spread 50),
        $(percentile_sql spread 90), $(percentile_sql spread 99), max (v),
        $(percentile_sql hops 50), $(percentile_sql hops 99) FROM spread"
}

#   Appends a phase's figures to FIGURES and its details to DETAILS:
#   label nodes stats rollbacks converged blocks interval figures details
#   [target_kind].
report_phase () {
    local label=$1 nodes=$2 stats=$3 forks=$4 converged=$5 blocks=$6 interval=$7
    local figures=$8 details=$9 target_kind=${10:-}
    local measured p50 p90 p99 max hop50 hop99
    read -r measured p50 p90 p99 max hop50 hop99 <<< "$stats"
    say "$nodes nodes, $label: $measured blocks: p50 ${p50:-?} us, p99 ${p99:-?} us," \
        "max ${max:-?} us; first hop p50 ${hop50:-?} us; $forks block rollbacks"
    if [ "${measured:-0}" -gt 0 ]; then
        figure_json "propagation p50, $nodes nodes ($label)" "$p50" us \
            "first hop p50 (first node to the next)" "$hop50" >> "$figures"
        figure_json "propagation p99, $nodes nodes ($label)" "$p99" us \
            "first hop p99" "$hop99" "$target_kind" 5000 >> "$figures"
    fi
    jq -cn --arg phase "$label" --argjson nodes "$nodes" --argjson blocks "$blocks" \
        --arg interval "$interval" --argjson measured "${measured:-0}" \
        --argjson p50 "${p50:-null}" --argjson p90 "${p90:-null}" \
        --argjson p99 "${p99:-null}" --argjson max "${max:-null}" \
        --argjson hop50 "${hop50:-null}" --argjson hop99 "${hop99:-null}" \
        --argjson forks "$forks" --argjson converged "$converged" \
        --argjson difficulty "$difficulty" \
        '{nodes: $nodes, phase: $phase, difficulty: $difficulty, blocks_sent: $blocks,
          interval_s: ($interval | tonumber), blocks_measured: $measured,
          converged: $converged, p50_us: $p50, p90_us: $p90, p99_us: $p99, max_us: $max,
          first_hop_p50_us: $hop50, first_hop_p99_us: $hop99, block_rollbacks: $forks}' \
        >> "$details"
}

#   Runs one network of NODES nodes: INJECT injected blocks, then RACE
#   mined ones, INTERVAL s apart; appends figures to FIGURES and details
#   to DETAILS.
run_network () {
    local nodes=$1 inject=$2 race=$3 interval=$4 figures=$5 details=$6
    local dir=$bench_tmp/net$nodes config ports=() ledgers=() addresses="" i port key
    mkdir -p "$dir"
    config=$dir/zchain.conf
    mapfile -t ports < <(free_ports "$nodes")
    write_config "$config" "$difficulty" 1 "${ports[@]}"
    local first_pid=${#bench_pids[@]}
    for i in $(seq 1 "$nodes"); do
        start_zchaind "$config" "$dir/n$i.log" "n$i"
        ledgers+=("$dir/n$i/node_${ports[$((i - 1))]}.sqlite3")
    done
    for i in $(seq 1 "$nodes"); do
        port=${ports[$((i - 1))]}
        wait_ping "127.0.0.1:$port" "$dir/n$i.log"
        addresses+="${addresses:+,}127.0.0.1:$port"
    done
    sleep 0.5                           #   let every peer link come up
    local target_kind=""
    [ "$nodes" = 5 ] && target_kind=max

    #   Phase 1: blocks mined elsewhere, sent to one node each in turn
    say "$nodes nodes up; injecting $inject blocks $interval s apart"
    local converged=true start=$SECONDS
    "$builddir/bench/bench_mining" inject -a "$addresses" --blocks "$inject" \
        --interval-ms "$(jq -n "$interval * 1000 | floor")" --difficulty "$difficulty" \
        --tag inject || converged=false
    await_convergence "$inject" "${ledgers[@]}" || converged=false
    say "$nodes nodes: injected in $((SECONDS - start)) s; converged: $converged"
    local forks
    forks=$(rollbacks "$dir")
    report_phase "injected blocks" "$nodes" \
        "$(measure "$dir" inject "$nodes" "${ledgers[@]}")" "$forks" "$converged" \
        "$inject" "$interval" "$figures" "$details" "$target_kind"

    #   Phase 2: every node mines each transaction; the lowest hash wins
    say "$nodes nodes: submitting $race transactions $interval s apart, every node mining"
    converged=true
    start=$SECONDS
    key=$dir/client.key
    "$zchain_cli" keygen --out "$key" >/dev/null
    for i in $(seq 1 "$race"); do
        port=${ports[$((i % nodes))]}
        "$zchain_cli" -a "127.0.0.1:$port" submit --key "$key" \
            "{\"bench\":\"propagation\",\"mode\":\"race\",\"n\":$i}" >/dev/null || true
        sleep "$interval"
    done
    await_convergence $((inject + race)) "${ledgers[@]}" || converged=false
    say "$nodes nodes: mined in $((SECONDS - start)) s; converged: $converged"
    report_phase "all nodes mining" "$nodes" \
        "$(measure "$dir" race "$nodes" "${ledgers[@]}")" "$(($(rollbacks "$dir") - forks))" \
        "$converged" "$race" "$interval" "$figures" "$details"

    #   Stop this network's processes before the next one starts
    stop_since "$first_pid"
}

#   Runs every network size asked for and writes propagation.json.
main () {
    bench_init
    local started figures details sizes=("$@") nodes
    [ $# -eq 0 ] && sizes=(5 20)
    started=$(now_timestamp)
    figures=$bench_tmp/figures.jsonl
    details=$bench_tmp/details.jsonl
    : > "$figures"
    : > "$details"
    for nodes in "${sizes[@]}"; do
        if [ "$nodes" -le 5 ]; then
            run_network "$nodes" "${PROPAGATION_BLOCKS:-200}" "${PROPAGATION_RACE:-100}" \
                0.05 "$figures" "$details"
        else
            run_network "$nodes" "${PROPAGATION_BLOCKS:-200}" "${PROPAGATION_RACE_LARGE:-50}" \
                0.1 "$figures" "$details"
        fi
    done
    write_result propagation "$started" "$figures" \
        "$(jq -cs '{method: "per block of the final chain: latest minus earliest transactions.end_timestamp among nodes (earliest: the first node commits it before it tells anyone); first hop: second earliest minus earliest. Injected blocks: mined by bench_mining and sent as new_block to one node each in turn, no node mining. All nodes mining: one transaction submitted to one node in turn, every node mines it at this difficulty, forks resolved by the lowest hash.", phases: .}' "$details")"
}

main "$@"
