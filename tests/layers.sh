#!/bin/sh
#   layers.sh - fails if a file includes a header of a layer above its own
#
#   The layers, lowest first: library (include/, src/lib/), actors
#   (src/actors/), roles (src/roles/), programs (src/programs/, tools/).
#   A file may include headers of its own layer and of those below it.
set -u
top=${ZCHAIN_SRCDIR:-$(dirname "$0")/..}
cd "$top" || exit 1
status=0
#   Prints the layer number of a path, or nothing for files outside them.
layer () {
    case $1 in
        include/*|src/lib/*) echo 1 ;;
        src/actors/*) echo 2 ;;
        src/roles/*) echo 3 ;;
        src/programs/*|tools/*) echo 4 ;;
    esac
}
checked=0
for file in include/*.h src/lib/*.[ch] src/actors/*.[ch] src/roles/*.[ch] \
            src/programs/*.c tools/*/*.[ch]; do
    [ -f "$file" ] || continue
    own=$(layer "$file")
    dir=$(dirname "$file")
    for header in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$file"); do
        #   Resolve as the compiler does: beside the file, then include/
        if [ -f "$dir/$header" ]; then
            target=$(realpath --relative-to=. "$dir/$header")
        elif [ -f "include/$header" ]; then
            target=include/$header
        else
            echo "layers: $file includes $header, which is in no layer"; status=1; continue
        fi
        theirs=$(layer "$target")
        checked=$((checked + 1))
        if [ -n "$theirs" ] && [ "$theirs" -gt "$own" ]; then
            echo "layers: $file (layer $own) includes $target (layer $theirs)"
            status=1
        fi
    done
done
if [ $status -eq 0 ]; then
    echo "layers: $checked includes checked, none reaches up: 1 passed, 0 failed"
else
    echo "layers: 0 passed, 1 failed"
fi
exit $status
