#!/usr/bin/env bash
# Builds knet_demo and knet_bench from tools/*.c against the system's
# libknet header (/usr/include/libknet.h) and library (-lknet, Debian's
# libknet-dev), into the directory given as first argument (default
# build-ref-tools).  The binaries are linked by soname libknet.so.1, so the
# SAME binaries run on our library with LD_LIBRARY_PATH=<build>/src/api.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../build-ref-tools}"
mkdir -p "$out"
CC=${CC:-cc}
CFLAGS=${CFLAGS:--O2 -g -Wall -Wextra -std=gnu11}
if [ ! -e /usr/include/libknet.h ]; then
  echo "build-against-reference.sh: /usr/include/libknet.h missing (apt-get install libknet-dev)" >&2
  exit 1
fi
for prog in knet_demo knet_bench; do
  [ -e "$here/$prog.c" ] || continue
  # -I/usr/include first so the system header wins over anything else
  # shellcheck disable=SC2086
  $CC $CFLAGS -I/usr/include -I"$here" "$here/$prog.c" "$here/knet_tool_common.c" \
      -o "$out/$prog" -lknet -lpthread -ldl
  echo "built $out/$prog"
done
