#!/usr/bin/env bash
#   bench/run.sh - placeholder
echo "no benchmarks yet"
