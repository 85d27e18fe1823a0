#!/bin/bash
# Interop scenarios: two knet_node processes on loopback, each loading
# either our libknet.so.1 (LD_LIBRARY_PATH=$OURS) or the system's reference
# libknet.so.1 (no LD_LIBRARY_PATH).  Ports are random; every process is
# bounded by timeout(1).
#
# usage: run_interop.sh KNET_NODE OUR_LIB_DIR [HAVE_REFERENCE=1]
NODE=$1
OURS=$2
HAVE_REF=${3:-1}
pass=0
fail=0

port_base() {
    # an even port in 20000..59998 whose pair looks free
    local p
    for _ in $(seq 1 20); do
        p=$((20000 + (RANDOM % 20000) * 2))
        if ! ss -Hlun 2>/dev/null | grep -q ":$p \|:$((p + 1)) \|:$((p + 2)) \|:$((p + 3)) "; then
            echo $p
            return
        fi
    done
    echo $p
}

# scenario NAME LIB1 LIB2 FAMILY NLINKS [node args...]
scenario() {
    local name=$1 l1=$2 l2=$3 fam=$4 nlinks=$5
    shift 5
    local p
    p=$(port_base)
    local a b args1=() args2=()
    for ((i = 0; i < nlinks; i++)); do
        if [ "$fam" = 6 ]; then
            a="[::1]:$((p + 2 * i))"
            b="[::1]:$((p + 2 * i + 1))"
        else
            a="127.0.0.1:$((p + 2 * i))"
            b="127.0.0.1:$((p + 2 * i + 1))"
        fi
        args1+=(--link "$a,$b")
        args2+=(--link "$b,$a")
    done
    local out1 out2
    out1=$(mktemp)
    out2=$(mktemp)
    env ${l1:+LD_LIBRARY_PATH=$l1} timeout 90 "$NODE" --me 1 --peer 2 "${args1[@]}" --timeout 40 "$@" >"$out1" 2>&1 &
    local pid1=$!
    env ${l2:+LD_LIBRARY_PATH=$l2} timeout 90 "$NODE" --me 2 --peer 1 "${args2[@]}" --timeout 40 "$@" >"$out2" 2>&1
    local rc2=$?
    wait $pid1
    local rc1=$?
    grep -h "loaded from" "$out1" "$out2" | sed "s/^/    /"
    if [ $rc1 -eq 0 ] && [ $rc2 -eq 0 ]; then
        echo "PASS: $name ($(grep -h ' passed, ' "$out1" "$out2" | tr '\n' ' '))"
        pass=$((pass + 1))
    else
        echo "FAIL: $name (exit $rc1/$rc2)"
        grep -h "FAIL\|passed" "$out1" "$out2" | sed "s/^/    /"
        fail=$((fail + 1))
    fi
    rm -f "$out1" "$out2"
}

scenario "ours<->ours IPv4" "$OURS" "$OURS" 4 1
scenario "ours<->ours IPv6" "$OURS" "$OURS" 6 1
scenario "ours<->ours IPv4 crypto" "$OURS" "$OURS" 4 1 --crypto
if [ "$HAVE_REF" = 1 ]; then
    scenario "ours<->reference IPv4" "$OURS" "" 4 1
    scenario "reference<->ours IPv4" "" "$OURS" 4 1
    scenario "ours<->reference IPv6" "$OURS" "" 6 1
    scenario "reference<->ours IPv6" "" "$OURS" 6 1
    scenario "ours<->reference IPv4 crypto aes256/sha256" "$OURS" "" 4 1 --crypto
    scenario "reference<->ours IPv6 crypto aes256/sha256" "" "$OURS" 6 1 --crypto
    scenario "ours<->reference IPv4 two links ACTIVE" "$OURS" "" 4 2
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
