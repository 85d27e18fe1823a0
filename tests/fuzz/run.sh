#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in build-fuzz and runs each for
# [seconds] (default 30), printing executions and coverage per target.
# Fails (exit 1) if any target crashes, leaks, trips a sanitizer or breaks an
# invariant; the reproducer is left in build-fuzz/fuzz-artifacts/<target>/.
#
#   tests/fuzz/run.sh [seconds] [target...]     (targets default to all)
#
# New interesting inputs go to build-fuzz/fuzz-corpus/<target>/ (not
# committed); the committed seeds in tests/fuzz/corpus/ are only read.
set -uo pipefail

secs=${1:-30}
shift || true
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${KNET_FUZZ_BUILD:-$root/build-fuzz}
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(decode reassembly decrypt decompress acl)

mkdir -p "$build"
# The whole tree is instrumented for coverage (fuzzer-no-link) and sanitized;
# only the fuzz targets and their libraries are built.
cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKNET_BUILD_TOOLS=OFF \
    -DKNET_SANITIZE=address,undefined \
    -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined" \
    >"$build/run-cmake.log" 2>&1 || { cat "$build/run-cmake.log"; exit 1; }
cmake --build "$build" -j"$(nproc)" --target $(printf 'fuzz_%s ' "${targets[@]}") >"$build/run-build.log" 2>&1 \
    || { tail -50 "$build/run-build.log"; exit 1; }

export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

declare -A max_len=([decode]=4096 [reassembly]=16384 [decrypt]=16384 [decompress]=16384 [acl]=4096)
status=0
printf '%-12s %12s %10s %8s %8s %s\n' target executions exec/s cov ft result
for t in "${targets[@]}"; do
    work="$build/fuzz-corpus/$t"
    art="$build/fuzz-artifacts/$t"
    log="$build/fuzz-$t.log"
    mkdir -p "$work" "$art"
    dirs=("$work")
    for d in "$root/tests/fuzz/corpus/$t" "$root/tests/fuzz/regressions/$t"; do
        [ -d "$d" ] && dirs+=("$d")
    done
    "$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 \
        -max_len="${max_len[$t]:-4096}" -artifact_prefix="$art/" -rss_limit_mb=4096 \
        "${dirs[@]}" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    if [ $rc -eq 0 ]; then result=ok; else result="FAILED (rc $rc, log $log)"; status=1; fi
    printf '%-12s %12s %10s %8s %8s %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$result"
    if [ $rc -ne 0 ]; then
        grep -E 'ERROR|invariant failed|SUMMARY|Test unit written|#[0-9]+ in ' "$log" | head -30 | sed 's/^/    /'
    fi
done
exit $status
