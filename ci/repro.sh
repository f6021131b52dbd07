#!/usr/bin/env bash
# The reproducibility job: builds optref three times (gcc -O0, gcc -O3
# -march=native, clang -O2) and checks that the exact outputs are identical
# byte for byte. Exit 1 on any difference.
set -euo pipefail
cd "$(dirname "$0")/.."
builds=("gcc:-O0" "gcc:-O3 -march=native" "clang:-O2")
dirs=()
for b in "${builds[@]}"; do
    cc=${b%%:*} opt=${b#*:}
    tag=${opt//[ =]/}                      # no '=' in paths: make would read a .d line as an assignment
    dir="build/repro-$cc$tag"
    make -s BUILD="$dir" CC="$cc" OPT="$opt" "$dir/optref" >/dev/null
    dirs+=("$dir")
done

# Every command whose output must be bit-identical everywhere.
commands=(
    "problem trace-het --seed 1234 --json --exact"
    "problem trace-hom --seed 7 --json --exact --prec 113"
    "problem trace-dense --seed 3 --json --exact --set d=6 --set p=4"
    "problem nqm --seed 1 --json --exact --set d=12"
)
# optref hash of every optimizer of the registry (issue: bit-identical everywhere).
optimizers=$("${dirs[0]}/optref" list optimizers | awk '/^  [a-z]/ {print $1}')
for o in $optimizers; do
    extra=""
    [ "$o" = smi ] && extra="--set T=12"
    commands+=("hash --opt $o --problem trace-het --seed 3 --steps 12 --lr 0.01 --oracle rows-norm --batch 3 $extra")
done

status=0
for c in "${commands[@]}"; do
    ref=""
    for dir in "${dirs[@]}"; do
        # shellcheck disable=SC2086
        sum=$("$dir/optref" $c | sha256sum | cut -d' ' -f1)
        if [ -z "$ref" ]; then
            ref=$sum
        elif [ "$sum" != "$ref" ]; then
            echo "repro: FAIL: 'optref $c' differs between ${dirs[0]} and $dir" >&2
            status=1
        fi
    done
    echo "repro: optref $c -> ${ref:0:16}... identical in ${#dirs[@]} builds"
done
echo "repro: ${#commands[@]} commands compared across ${#dirs[@]} builds"
[ $status -eq 0 ] && echo "repro: 1 passed, 0 failed" || echo "repro: 0 passed, 1 failed"
exit $status
