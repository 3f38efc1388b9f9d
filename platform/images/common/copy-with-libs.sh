#!/bin/sh
# copy-with-libs.sh DEST SRC:TARGET...: copy each program SRC to DEST/TARGET together with the
# shared libraries ldd lists for it (kept at their own paths), so a Debian-built, dynamically
# linked binary runs on the scratch-based runtime image.
set -eu
dest=$1
shift
for pair in "$@"; do
    src=${pair%%:*}
    target=${pair#*:}
    mkdir -p "$dest$(dirname "$target")"
    install -m 0755 "$src" "$dest$target"
    for lib in $(ldd "$src" | grep -o '/[^ ]*'); do
        mkdir -p "$dest$(dirname "$lib")"
        cp -L "$lib" "$dest$lib"
    done
done
