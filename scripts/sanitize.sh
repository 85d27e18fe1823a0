#!/usr/bin/env bash
# Builds the whole tree with sanitizers and runs the CTest suite under them.
#
#   scripts/sanitize.sh [address|thread] [extra ctest args...]
#
#   address: -DKNET_SANITIZE=address,undefined in build-asan
#   thread:  -DKNET_SANITIZE=thread            in build-tsan
# (KNET_SANITIZE_BUILD overrides the build dir, CC/CXX the compiler.)
#
# Every sanitizer report is fatal: the process stops at the first one and the
# test fails.  Suppressions, if ever needed, go in
# scripts/sanitizer-suppressions/<lsan|ubsan|tsan>.supp, each entry with a
# comment giving its reason; nothing else is suppressed.
set -uo pipefail

mode=${1:-address}
shift || true
root=$(cd "$(dirname "$0")/.." && pwd)
supp="$root/scripts/sanitizer-suppressions"

case "$mode" in
address) sanitize=address,undefined; build=${KNET_SANITIZE_BUILD:-$root/build-asan} ;;
thread)  sanitize=thread;            build=${KNET_SANITIZE_BUILD:-$root/build-tsan} ;;
*) echo "usage: $0 [address|thread] [ctest args...]" >&2; exit 2 ;;
esac

# Tests left out, by name (ctest -E), and why:
exclude=(
    # valgrind runs an instrumented binary under its own allocator: ASan and
    # TSan refuse to start under it (and the plain build runs these anyway).
    '_valgrind$'
)
# Not excluded on purpose: the tests that dlopen the reference libknet 1.25
# (crypto_tests Reference*, compress_tests ReferencePlugin*) and the interop
# tests that run it in-process, under both sanitizers.  (Under TSan the
# reference's threads, created with a fixed 1 MiB stack, would overflow it:
# glibc takes static TLS from the stack and libtsan's is ~770 KB; the interop
# programs interpose pthread_attr_setstacksize for that, tests/interop/
# tsan_ref_stack.h.)
# corosync_cluster runs the distribution's uninstrumented corosync, which
# cannot load a sanitizer-instrumented libknet.so.1 (the ASan/TSan runtime
# must be the first library of the process); the plain build runs it.
exclude+=('^corosync_cluster$')
regex=$(IFS='|'; echo "${exclude[*]}")

mkdir -p "$build"
echo "== configure $build (KNET_SANITIZE=$sanitize)"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKNET_SANITIZE="$sanitize" \
    >"$build/sanitize-cmake.log" 2>&1 || { cat "$build/sanitize-cmake.log"; exit 1; }
echo "== build"
cmake --build "$build" -j"$(nproc)" >"$build/sanitize-build.log" 2>&1 \
    || { grep -E 'error|Error' "$build/sanitize-build.log" | head -40; echo "build failed, see $build/sanitize-build.log"; exit 1; }

# A suppressions file is used only if it exists (none is needed today).
supp_opt() { [ -f "$supp/$1.supp" ] && echo ":suppressions=$supp/$1.supp"; }
common=halt_on_error=1:abort_on_error=1:print_stacktrace=1
export ASAN_OPTIONS="$common:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1"
export LSAN_OPTIONS="print_suppressions=0$(supp_opt lsan)"
export UBSAN_OPTIONS="$common$(supp_opt ubsan)"
export TSAN_OPTIONS="$common:second_deadlock_stack=1$(supp_opt tsan)"

echo "== ctest (excluding: $regex)"
cd "$build" && ctest --output-on-failure --no-tests=error -j"$(nproc)" -E "$regex" "$@"
