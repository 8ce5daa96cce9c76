#!/bin/sh
#   Copyright (c) the zchain authors (AUTHORS).  This Source Code Form is
#   subject to the terms of the Mozilla Public License, v. 2.0.  If a copy
#   of the MPL was not distributed with this file, You can obtain one at
#   https://mozilla.org/MPL/2.0/.
#
#   test_manpages.sh - the man pages stay in step with the programs' flags
#
#   For zchaind(8), zchain-cli(1) and zchain-load(1): every flag `--help`
#   prints is in the page, and every flag the page names is one --help
#   prints, long (--conf) and short (-c) alike.  Each page must also
#   render without a warning (man -l, where man-db is installed).
#   Run by make check with the built programs in ZCHAIND, ZCHAIN_CLI and
#   ZCHAIN_LOAD and the pages built in doc/man/.
set -u
builddir=${ZCHAIN_BUILDDIR:-.}
checks=0
failures=0

fail () {
    echo "test_manpages: $*" >&2
    failures=$((failures + 1))
}

#   The long and short flags of a text, one per line, sorted: long ones
#   anywhere, short ones where an option is described ("  -c, --conf" in
#   --help, ".BR \-c ..." in a page).
long_flags () {
    sed 's/\\-/-/g' | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u
}
short_help () {
    grep -oE -- '^ +-[a-zA-Z]\b' | tr -d ' ' | sort -u
}
short_page () {
    sed 's/\\-/-/g' | grep -oE -- '^\.BR? -[a-zA-Z]\b' | sed 's/^\.BR\{0,1\} //' | sort -u
}

compare () {
    what=$1 from_help=$2 from_page=$3
    checks=$((checks + 1))
    missing=$(comm -23 "$from_help" "$from_page" | tr '\n' ' ')
    extra=$(comm -13 "$from_help" "$from_page" | tr '\n' ' ')
    [ -z "$missing" ] || fail "$what: in --help but not in the man page: $missing"
    [ -z "$extra" ] || fail "$what: in the man page but not in --help: $extra"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for pair in "${ZCHAIND:?}:zchaind.8" "${ZCHAIN_CLI:?}:zchain-cli.1" "${ZCHAIN_LOAD:?}:zchain-load.1"; do
    program=${pair%%:*}
    page=$builddir/doc/man/${pair#*:}
    name=${pair#*:}
    if [ ! -f "$page" ]; then
        fail "$page: not built"
        continue
    fi
    "$program" --help >"$tmp/help" 2>&1 || fail "$program --help: exit $?"
    long_flags <"$tmp/help" >"$tmp/help.long"
    long_flags <"$page" >"$tmp/page.long"
    compare "$name long flags" "$tmp/help.long" "$tmp/page.long"
    short_help <"$tmp/help" >"$tmp/help.short"
    short_page <"$page" >"$tmp/page.short"
    compare "$name short flags" "$tmp/help.short" "$tmp/page.short"
done

#   Every page renders, without a warning from groff
if command -v man >/dev/null 2>&1; then
    for page in "$builddir"/doc/man/*.[158]; do
        checks=$((checks + 1))
        warnings=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
        [ -z "$warnings" ] || fail "$page: man -l: $warnings"
        MANWIDTH=80 man -l "$page" 2>/dev/null | grep -q "NAME" || fail "$page: renders no NAME section"
    done
else
    echo "test_manpages: man not installed: rendering not checked (dev.sh installs man-db)"
fi

total=$checks
passed=$((checks - failures))
[ $passed -lt 0 ] && passed=0
echo "$((passed * 100 / (total > 0 ? total : 1)))%: Checks: $total, Failures: $failures, Errors: 0"
[ $failures -eq 0 ]
