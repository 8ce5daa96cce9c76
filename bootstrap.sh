#!/bin/sh
#   bootstrap.sh - generates ./configure from configure.ac (run once after a clone)
set -e
cd "$(dirname "$0")"
autoreconf --install --force >/dev/null 2>&1 || autoreconf --install --force
