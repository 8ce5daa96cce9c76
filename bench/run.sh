#!/usr/bin/env bash
#   Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
#   subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
#   of the MPL was not distributed with this file, You can obtain one at
#   https://mozilla.org/MPL/2.0/.
#   bench/run.sh - runs the benchmark suite (`make bench`) and sums it up
#
#       ZCHAIN_BUILDDIR=BUILD bench/run.sh [NAME...]
#
#   NAME is mining, stop_latency, gateway, e2e, intake, propagation or scale
#   (default: all, in that order).  Each writes $results/NAME.json ($ZCHAIN_BUILDDIR/bench/
#   results unless ZCHAIN_RESULTS says otherwise); this script then prints
#   one table of every figure beside its reference and target, and writes
#   $results/summary.json (every result, the machine, the run's time) and
#   $results/summary.txt (the table).  Targets are reported, never enforced:
#   the exit status is 0 unless a benchmark could not be started at all.
#   Needs jq, sqlite3, ss and column.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/common.sh
source "$here/common.sh"

#   Runs one benchmark by name; a failure is recorded in its result file.
run_one () {
    local name=$1 status=0 model
    model=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
    local start=$SECONDS
    echo "== $name" >&2
    rm -f "$results/$name.json"
    case $name in
        mining)
            "$builddir/bench/bench_mining" mining --json "$results/mining.json" \
                --model "$model" || status=$? ;;
        stop_latency)
            "$builddir/bench/bench_mining" stop --json "$results/stop_latency.json" \
                --model "$model" || status=$? ;;
        gateway)
            bash "$here/gateway.sh" || status=$? ;;
        e2e)
            bash "$here/e2e.sh" || status=$? ;;
        intake)
            bash "$here/intake.sh" || status=$? ;;
        propagation)
            bash "$here/propagation.sh" || status=$? ;;
        scale)
            bash "$here/scale.sh" || status=$? ;;
        *)
            say "unknown benchmark $name"
            return 1 ;;
    esac
    if [ ! -s "$results/$name.json" ]; then
        jq -n --arg name "$name" --argjson machine "$(machine_json)" \
            --arg started "$(now_timestamp)" --arg why "exit status $status, no result" \
            '{benchmark: $name, machine: $machine, started: $started, failed: $why,
              figures: []}' > "$results/$name.json"
    elif [ "$status" != 0 ]; then
        jq --arg why "exit status $status" '. + {failed: $why}' "$results/$name.json" \
            > "$results/$name.json.tmp" && mv "$results/$name.json.tmp" "$results/$name.json"
    fi
    jq --argjson seconds $((SECONDS - start)) '. + {seconds: $seconds}' \
        "$results/$name.json" > "$results/$name.json.tmp"
    mv "$results/$name.json.tmp" "$results/$name.json"
}

#   Prints the table of every figure in the result files given.
table () {
    {
        printf 'benchmark\tfigure\tvalue\treference\tratio\ttarget\n'
        jq -r '
            def num: if . == null then "-"
                     elif (. | fabs) >= 1000 then (. | round | tostring)
                     elif (. | fabs) >= 1 then ((. * 100 | round) / 100 | tostring)
                     else ((. * 10000 | round) / 10000 | tostring) end;
            . as $r
            | if ($r.skipped // $r.failed) then
                [$r.benchmark, "(" + (if $r.skipped then "skipped: " + $r.skipped
                                      else "failed: " + $r.failed end) + ")",
                 "-", "-", "-", "-"]
              else ($r.figures[] |
                [$r.benchmark, .name, (.value | num) + " " + .unit,
                 (if .reference then (.reference_value | num) + " (" + .reference + ")"
                  else "-" end),
                 (.ratio | num),
                 (if .target then .target + (if .met then ": met" else ": MISSED" end)
                  else "-" end)])
              end
            | @tsv' "$@"
    } | column -t -s "$(printf '\t')"
}

#   Runs the benchmarks asked for, then the summary.
main () {
    mkdir -p "$results"
    local names=("$@") started start=$SECONDS name files=()
    [ $# -eq 0 ] && names=(mining stop_latency gateway e2e intake propagation scale)
    started=$(now_timestamp)
    echo "zchain benchmarks: results in $results" >&2
    for name in "${names[@]}"; do
        run_one "$name"
        files+=("$results/$name.json")
    done
    local seconds=$((SECONDS - start))
    jq -s --argjson machine "$(machine_json)" --arg started "$started" \
        --argjson seconds "$seconds" \
        '{machine: $machine, started: $started, seconds: $seconds,
          targets_missed: [.[] | .benchmark as $b | .figures[]
                           | select (.met == false) | "\($b): \(.name)"],
          benchmarks: .}' "${files[@]}" > "$results/summary.json"
    table "${files[@]}" | tee "$results/summary.txt"
    echo "suite took ${seconds} s; wrote $results/summary.json" | tee -a "$results/summary.txt"
}

main "$@"
