#!/usr/bin/env bash
#   Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
#   subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
#   of the MPL was not distributed with this file, You can obtain one at
#   https://mozilla.org/MPL/2.0/.
#   bench/e2e.sh - end to end: confirmed transactions per second and latency
#
#       ZCHAIN_BUILDDIR=BUILD bench/e2e.sh
#
#   For difficulty 3 and 4: five nodes (one miner thread each) and a gateway
#   in one zchaind process; the deployment's server address is taken by
#   zchain-load --notify-listen, which so receives every block_confirmation
#   the gateway forwards.  zchain-load submits signed transactions through
#   the gateway, open loop at E2E_RATE per second (default 2000, the target)
#   for E2E_SECONDS, and reports confirmed transactions per second and the
#   confirmation latency (submission to the first node's confirmation and to
#   every node's), p50 / p99.  The reference of the confirmed rate is the
#   rate offered.  Runs only if zchain-load --help offers --json; else
#   writes a result with "skipped".  Writes $results/e2e.json.
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"

rate=${E2E_RATE:-2000}
seconds=${E2E_SECONDS:-10}
clients=${E2E_CLIENTS:-500}

#   Runs one difficulty; appends figures to FIGURES and details to DETAILS.
run_difficulty () {
    local difficulty=$1 figures=$2 details=$3
    local dir=$bench_tmp/d$difficulty json
    json=$dir/load.json
    deploy "$dir" "$difficulty" 5 external
    say "difficulty $difficulty: $rate tx/s offered for $seconds s by $clients clients"
    "$zchain_load" -a "$deploy_gateway" --clients "$clients" --rate "$rate" \
        --duration "$seconds" --mix submit_transaction --keep-alive \
        --notify-listen "$deploy_server" --grace 20 --json "$json" \
        >"$json.out" 2>&1 || true
    tail -n 6 "$json.out" >&2
    stop_since "$deploy_first"
    local confirmed first50 first99 all50 all99 sent failed kept
    confirmed=$(report_value "$json" .total.confirm_rate_all)
    first50=$(report_value "$json" .total.confirm_first_ms.p50)
    first99=$(report_value "$json" .total.confirm_first_ms.p99)
    all50=$(report_value "$json" .total.confirm_all_ms.p50)
    all99=$(report_value "$json" .total.confirm_all_ms.p99)
    sent=$(report_value "$json" .total.sent)
    failed=$(report_value "$json" .total.failed)
    kept=$(report_value "$json" .rate_kept)
    if [ "$confirmed" = null ]; then
        say "difficulty $difficulty: no report"
        return 0
    fi
    local kind="" latency_kind=""
    if [ "$difficulty" = 4 ]; then
        kind=min
        latency_kind=max
    fi
    {
        figure_json "confirmed tx/s on every node, difficulty $difficulty" "$confirmed" \
            "tx/s" "offered tx/s" "$rate" "$kind" 2000
        figure_json "confirmation latency p50 (every node), difficulty $difficulty" "$all50" \
            ms "first node p50" "$first50"
        figure_json "confirmation latency p99 (every node), difficulty $difficulty" "$all99" \
            ms "first node p99" "$first99" "$latency_kind" 1000
    } >> "$figures"
    jq -cn --argjson difficulty "$difficulty" --argjson sent "$sent" \
        --argjson failed "$failed" --argjson kept "$kept" --slurpfile report "$json" \
        '{difficulty: $difficulty, sent: $sent, failed: $failed, rate_kept: $kept,
          total: ($report [0].total | del (.name)), failures: $report [0].failures,
          notes: $report [0].notes}' >> "$details"
}

#   Runs both difficulties and writes e2e.json.
main () {
    bench_init
    local started figures details
    started=$(now_timestamp)
    figures=$bench_tmp/figures.jsonl
    details=$bench_tmp/details.jsonl
    : > "$figures"
    : > "$details"
    if ! zchain_load_ready; then
        write_skipped e2e "zchain-load not available"
        return 0
    fi
    run_difficulty 3 "$figures" "$details"
    run_difficulty 4 "$figures" "$details"
    write_result e2e "$started" "$figures" \
        "$(jq -cs --argjson rate "$rate" --argjson seconds "$seconds" \
            --argjson clients "$clients" \
            '{deployment: "5 nodes (1 miner thread each) and a gateway in one zchaind process; zchain-load --notify-listen is the server",
              load: "zchain-load open loop, \($rate) submit_transaction/s for \($seconds) s, \($clients) keep-alive clients",
              runs: .}' "$details")"
}

main "$@"
