#!/usr/bin/env bash
#   Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
#   subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
#   of the MPL was not distributed with this file, You can obtain one at
#   https://mozilla.org/MPL/2.0/.
#   bench/gateway.sh - gateway requests per second and latency under zchain-load
#
#       ZCHAIN_BUILDDIR=BUILD bench/gateway.sh
#
#   Starts a deployment (five nodes at difficulty 4, one miner thread each,
#   a gateway and the reference server, as etc/zchain.conf) and runs
#   zchain-load against the gateway, closed loop (each client sends when
#   its last reply came), keep-alive: health and submit_transaction with 1,
#   50 and 1,000 clients, then health with 10,000 clients (the target:
#   every one served).  submit_transaction's reference is health with as
#   many clients; health's is redis-server's PING measured by the same
#   client code (zchain-load --redis-ping) against a redis-server started
#   for the run, where redis-server is installed (else a note says so).
#   Runs only if zchain-load --help offers --json; else writes a result
#   with "skipped".  Writes $results/gateway.json.
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"

seconds=${GATEWAY_SECONDS:-4}

#   Measures redis-server's PING with zchain-load --redis-ping and the
#   same clients; prints req/s, or null with a note on stderr.
redis_ping_rate () {
    local clients=$1 json=$bench_tmp/redis-$1.json port
    if ! command -v redis-server >/dev/null 2>&1; then
        echo null
        return 0
    fi
    port=$(free_ports 1)
    redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
        >"$bench_tmp/redis.log" 2>&1 &
    local redis=$!
    local tries=0
    until "$zchain_load" --redis-ping -a "127.0.0.1:$port" --clients 1 --count 1 \
            >/dev/null 2>&1 || [ $tries -ge 50 ]; do
        sleep 0.1
        tries=$((tries + 1))
    done
    say "redis-server PING with $clients clients, $seconds s"
    "$zchain_load" --redis-ping -a "127.0.0.1:$port" --clients "$clients" --rate 0 \
        --duration "$seconds" --keep-alive --grace 5 --prepare 400000 \
        --json "$json" >"$json.out" 2>&1 || true
    kill "$redis" 2>/dev/null || true
    wait "$redis" 2>/dev/null || true
    report_value "$json" .total.throughput
}

#   Why there may be no redis-server PING reference in this run.
redis_note () {
    if ! command -v redis-server >/dev/null 2>&1; then
        echo "redis-server is not installed on this machine (apt-get install redis-server to compare)"
    else
        echo "measured by zchain-load --redis-ping against a redis-server started for the run"
    fi
}

#   Runs zchain-load: clients action json-file [more flags...]; prints
#   nothing, leaves the report in json-file.  A failed run leaves no file.
run_load () {
    local clients=$1 action=$2 json=$3
    shift 3
    say "$action with $clients clients, $seconds s"
    "$zchain_load" -a "$deploy_gateway" --clients "$clients" --rate 0 \
        --duration "$seconds" --mix "$action" --keep-alive --grace 5 \
        --json "$json" "$@" >"$json.out" 2>&1 || true
    tail -n 4 "$json.out" >&2
}

#   Runs every case and writes gateway.json.
main () {
    bench_init
    local started figures details
    started=$(now_timestamp)
    figures=$bench_tmp/figures.jsonl
    details=$bench_tmp/details.jsonl
    : > "$figures"
    : > "$details"
    if ! zchain_load_ready; then
        write_skipped gateway "zchain-load not available"
        return 0
    fi
    deploy "$bench_tmp/net" 4 5 start
    local note clients action json rate p50 p99 failed sent health_rate
    note=$(redis_note)
    for clients in 1 50 1000; do
        for action in health submit_transaction; do
            json=$bench_tmp/$action-$clients.json
            if [ "$action" = health ]; then
                run_load "$clients" health "$json" --prepare 400000
            else
                run_load "$clients" submit_transaction "$json" --prepare 40000
            fi
            rate=$(report_value "$json" .total.throughput)
            p50=$(report_value "$json" .total.latency_ms.p50)
            p99=$(report_value "$json" .total.latency_ms.p99)
            failed=$(report_value "$json" .total.failed)
            sent=$(report_value "$json" .total.sent)
            if [ "$rate" = null ]; then
                say "$action with $clients clients: no report"
                continue
            fi
            if [ "$action" = health ]; then
                health_rate=$rate
                local redis_rate kind=""
                redis_rate=$(redis_ping_rate "$clients")
                [ "$clients" = 50 ] && kind=ratio_min
                figure_json "gateway health req/s, $clients clients" "$rate" "req/s" \
                    "redis-server PING req/s, same client code (details.redis_ping)" \
                    "$redis_rate" "$kind" 1 >> "$figures"
            else
                figure_json "gateway submit_transaction req/s, $clients clients" "$rate" \
                    "req/s" "gateway health req/s, $clients clients" "${health_rate:-null}" \
                    >> "$figures"
            fi
            figure_json "gateway $action latency p99, $clients clients" "$p99" ms \
                "p50" "$p50" >> "$figures"
            jq -cn --arg action "$action" --argjson clients "$clients" \
                --argjson sent "$sent" --argjson failed "$failed" \
                --slurpfile report "$json" \
                '{action: $action, clients: $clients, sent: $sent, failed: $failed,
                  throughput: $report [0].total.throughput,
                  latency_ms: $report [0].total.latency_ms,
                  failures: $report [0].failures, notes: $report [0].notes}' >> "$details"
        done
    done

    #   Ten thousand clients held at once, every one served
    json=$bench_tmp/health-10000.json
    run_load 10000 health "$json" --prepare 400000 --ramp 1
    failed=$(report_value "$json" .total.failed)
    sent=$(report_value "$json" .total.sent)
    rate=$(report_value "$json" .total.throughput)
    if [ "$failed" != null ]; then
        figure_json "gateway health with 10,000 clients: failed requests" "$failed" \
            requests "sent" "$sent" max 1 >> "$figures"
        figure_json "gateway health req/s, 10000 clients" "$rate" "req/s" >> "$figures"
        jq -cn --argjson sent "$sent" --argjson failed "$failed" --slurpfile report "$json" \
            '{action: "health", clients: 10000, sent: $sent, failed: $failed,
              throughput: $report [0].total.throughput,
              latency_ms: $report [0].total.latency_ms,
              failures: $report [0].failures, notes: $report [0].notes}' >> "$details"
    fi
    stop_since "$deploy_first"
    write_result gateway "$started" "$figures" \
        "$(jq -cs --arg note "$note" --argjson seconds "$seconds" \
            '{deployment: "5 nodes at difficulty 4 (1 miner thread each), gateway, server; one zchaind process",
              load: "zchain-load closed loop, keep-alive, \($seconds) s per case",
              redis_ping: $note, runs: .}' "$details")"
}

main "$@"
