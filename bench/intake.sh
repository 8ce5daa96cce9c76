#!/usr/bin/env bash
#   bench/intake.sh - the transaction path at the machine's limit (issue 11)
#
#       ZCHAIN_BUILDDIR=BUILD bench/intake.sh
#
#   Every row of issue 11's table that is not in gateway.sh (health against
#   redis-server's PING) or propagation.sh (block propagation), each beside
#   a reference measured by this run on this machine:
#     references  Ed25519 verifies/s on one core (bench_path verify, the
#                 call a node makes per transaction) and the loopback TCP
#                 round trip (bench_path rtt);
#     1 client    submit_transaction through the gateway, closed loop: ack
#                 p50 / p99 (targets <= 2 / 10 ms; reference: round trip);
#     50 clients  closed loop at difficulty 4, confirmations taken by
#                 zchain-load --notify-listen: tx/s confirmed on every node
#                 (>= 2000), ack p50, confirmation p99 (< 1 s);
#     1,000 clients offering 1,000 tx/s (difficulty 4): ack p99 of those
#                 taken (< 100 ms), how many were refused at once as busy;
#     one node    50 clients sending NEW_TRANSACTION to one node alone:
#                 tx/s against half the verify rate (ratio >= 0.5).
#   Five nodes (one miner thread each) and a gateway in one zchaind, a
#   fresh deployment per case.  The machine may be shared: compare each
#   figure with its reference, measured in the same run.  Writes
#   $results/intake.json.
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"

seconds=${INTAKE_SECONDS:-10}
bench_path=$builddir/bench/bench_path

#   Runs zchain-load on the gateway of a fresh deployment: name difficulty
#   clients rate, then zchain-load flags; the report is $bench_tmp/NAME.json.
run_case () {
    local name=$1 difficulty=$2 clients=$3 rate=$4 json=$bench_tmp/$1.json
    shift 4
    deploy "$bench_tmp/$name" "$difficulty" 5 external
    say "$name: $clients clients, rate $rate (0: closed loop), $seconds s, difficulty $difficulty"
    "$zchain_load" -a "$deploy_gateway" --clients "$clients" --rate "$rate" \
        --duration "$seconds" --mix submit_transaction --keep-alive \
        --notify-listen "$deploy_server" --grace 20 --json "$json" "$@" \
        >"$json.out" 2>&1 || true
    tail -n 8 "$json.out" >&2
    stop_since "$deploy_first"
}

main () {
    bench_init
    local started figures details
    started=$(now_timestamp)
    figures=$bench_tmp/figures.jsonl
    details=$bench_tmp/details.jsonl
    : > "$figures"
    : > "$details"
    if ! zchain_load_ready || [ ! -x "$bench_path" ]; then
        write_skipped intake "zchain-load or bench_path not available"
        return 0
    fi

    #   References, measured now
    local verify rtt50 rtt99
    verify=$("$bench_path" verify --seconds 2 | jq '.verify_per_sec')
    rtt50=$("$bench_path" rtt --count 20000 | tee "$bench_tmp/rtt.json" | jq '.rtt_p50_ms')
    rtt99=$(jq '.rtt_p99_ms' "$bench_tmp/rtt.json")
    say "Ed25519 verify $verify/s on one core; loopback round trip p50 $rtt50 ms, p99 $rtt99 ms"
    figure_json "Ed25519 verifies/s, one core (reference)" "$verify" "verify/s" >> "$figures"
    figure_json "loopback TCP round trip p50 (reference)" "$rtt50" ms "p99" "$rtt99" >> "$figures"

    #   1 client through the gateway
    run_case one 4 1 0 --prepare 40000
    local json=$bench_tmp/one.json
    figure_json "gateway submit_transaction 1 client: ack p50" \
        "$(report_value "$json" .total.latency_ms.p50)" ms \
        "loopback round trip p50" "$rtt50" max 2 >> "$figures"
    figure_json "gateway submit_transaction 1 client: ack p99" \
        "$(report_value "$json" .total.latency_ms.p99)" ms \
        "loopback round trip p99" "$rtt99" max 10 >> "$figures"
    figure_json "gateway submit_transaction 1 client: tx/s" \
        "$(report_value "$json" .total.throughput)" "tx/s" >> "$figures"

    #   50 clients, closed loop, difficulty 4
    run_case fifty 4 50 0 --prepare 100000
    json=$bench_tmp/fifty.json
    figure_json "50 clients, difficulty 4: confirmed tx/s on every node" \
        "$(report_value "$json" .total.confirm_rate_all)" "tx/s" \
        "acknowledged tx/s" "$(report_value "$json" .total.throughput)" min 2000 >> "$figures"
    figure_json "50 clients, difficulty 4: ack p50" \
        "$(report_value "$json" .total.latency_ms.p50)" ms \
        "ack p99" "$(report_value "$json" .total.latency_ms.p99)" >> "$figures"
    figure_json "50 clients, difficulty 4: confirmation p99 (every node)" \
        "$(report_value "$json" .total.confirm_all_ms.p99)" ms \
        "first node p99" "$(report_value "$json" .total.confirm_first_ms.p99)" max 1000 \
        >> "$figures"

    #   1,000 clients offering 1,000 tx/s
    run_case thousand 4 1000 1000
    json=$bench_tmp/thousand.json
    figure_json "1,000 clients at 1,000 tx/s: ack p99 of those taken" \
        "$(report_value "$json" .total.latency_ms.p99)" ms \
        "ack p50" "$(report_value "$json" .total.latency_ms.p50)" max 100 >> "$figures"
    figure_json "1,000 clients at 1,000 tx/s: refused at once as busy" \
        "$(report_value "$json" '.failures."busy (refused at capacity)" // 0')" requests \
        "sent" "$(report_value "$json" .total.sent)" >> "$figures"
    figure_json "1,000 clients at 1,000 tx/s: failed for another reason" \
        "$(report_value "$json" '[.failures | to_entries [] | select (.key != "busy (refused at capacity)") | .value] | add // 0')" \
        requests "sent" "$(report_value "$json" .total.sent)" max 1 >> "$figures"

    #   One node alone, NEW_TRANSACTION from 50 clients
    local dir=$bench_tmp/alone ports=()
    mkdir -p "$dir"
    mapfile -t ports < <(free_ports 1)
    write_config "$dir/zchain.conf" 4 1 "${ports[0]}"
    local first=${#bench_pids[@]}
    start_zchaind "$dir/zchain.conf" "$dir/zchaind.log"
    wait_ping "127.0.0.1:${ports[0]}" "$dir/zchaind.log"
    json=$bench_tmp/alone.json
    say "alone: 50 clients, NEW_TRANSACTION to one node, $seconds s"
    "$zchain_load" --nodes -a "127.0.0.1:${ports[0]}" --clients 50 --rate 0 \
        --duration "$seconds" --mix submit_transaction --keep-alive --grace 5 \
        --prepare 100000 --json "$json" >"$json.out" 2>&1 || true
    tail -n 4 "$json.out" >&2
    stop_since "$first"
    local half
    half=$(jq -n --argjson v "$verify" '$v / 2')
    figure_json "one node alone, 50 clients: NEW_TRANSACTION tx/s" \
        "$(report_value "$json" .total.throughput)" "tx/s" \
        "half the Ed25519 verify rate of one core" "$half" ratio_min 1 >> "$figures"
    figure_json "one node alone, 50 clients: ack p50" \
        "$(report_value "$json" .total.latency_ms.p50)" ms >> "$figures"

    for name in one fifty thousand alone; do
        json=$bench_tmp/$name.json
        [ -s "$json" ] || continue
        jq -c --arg name "$name" '{case: $name, total: (.total | del (.name)),
                                   failures, notes}' "$json" >> "$details"
    done
    write_result intake "$started" "$figures" \
        "$(jq -cs --argjson seconds "$seconds" \
            '{deployment: "5 nodes (1 miner thread each) and a gateway in one zchaind process, fresh per case; one node alone for the last",
              load: "zchain-load, \($seconds) s per case, keep-alive",
              cases: .}' "$details")"
}

main "$@"
