#!/bin/sh
#   fuzz/run.sh - runs libFuzzer targets (make fuzz calls it)
#
#   FUZZ_SECONDS=N FUZZ_JOBS=J fuzz/run.sh fuzz/fuzz_x ...
#   Each target runs N seconds (-max_total_time) on a working corpus in
#   fuzz-out/NAME/, seeded from $FUZZ_SRCDIR/fuzz/corpus/NAME/, at most J
#   targets at a time, at nice 19.  Crashes are kept in fuzz-out/NAME/ as
#   crash-* files.  fuzz-out/summary.txt gets one line per target: runs,
#   seconds, corpus size, coverage, and OK or FAILED.  Exit 1 if any failed.
set -u
seconds=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-1}
srcdir=${FUZZ_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
mkdir -p fuzz-out
summary=fuzz-out/summary.txt
: > "$summary.tmp"

one () {
    target=$1
    name=$(basename "$target")
    work=fuzz-out/$name
    mkdir -p "$work/corpus"
    seeds="$srcdir/fuzz/corpus/${name#fuzz_}"
    [ -d "$seeds" ] || seeds=""
    dict="$srcdir/fuzz/json.dict"
    dictopt=""
    case "$name" in fuzz_codec|fuzz_keys|fuzz_config) ;; *) dictopt="-dict=$dict" ;; esac
    start=$(date +%s)
    ( cd "$work" && nice -n 19 "../../$target" -max_total_time="$seconds" \
        -print_final_stats=1 -timeout=20 -rss_limit_mb=2048 $dictopt \
        corpus $seeds ) > "$work/log.txt" 2>&1
    status=$?
    took=$(( $(date +%s) - start ))
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log.txt" | grep -o '[0-9]*$' | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$work/log.txt" | tail -n 1 | grep -o '[0-9]*')
    files=$(ls "$work/corpus" | wc -l)
    verdict=OK
    [ $status -eq 0 ] || verdict="FAILED (exit $status, see $work/log.txt)"
    printf '%-16s runs %-10s seconds %-5s corpus %-6s cov %-6s %s\n' \
        "$name" "${runs:-?}" "$took" "$files" "${cov:-?}" "$verdict" >> "$summary.tmp"
    [ $status -eq 0 ]
}

status=0
running=0
pids=""
for target in "$@"; do
    one "$target" &
    pids="$pids $!"
    running=$((running + 1))
    if [ $running -ge "$jobs" ]; then
        for pid in $pids; do wait "$pid" || status=1; done
        pids=""
        running=0
    fi
done
for pid in $pids; do wait "$pid" || status=1; done
sort "$summary.tmp" > "$summary"
rm -f "$summary.tmp"
cat "$summary"
exit $status
