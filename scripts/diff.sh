#!/usr/bin/env bash
# diff.sh N: what `make diff N` runs: the lesson of stage N as a diff from stage N-1 (sources, then
# tests), with a diffstat first. Each stage imports its own library (`import Net_v0_N`); a file whose
# only change is that line is left out.
set -uo pipefail
cd "$(dirname "$0")/.."

n=${1:?usage: scripts/diff.sh N}
if [[ $n -le 1 ]]; then
    echo "Stage 1 is where the workbook starts: there is no stage before it. Read Sources/v0.1 and chapters/01-*."
    exit 0
fi
a="v0.$((n - 1))" b="v0.$n"
ignore=(-I '^(@testable )?import Net_v0_[0-9]+$')
color=()
[[ -t 1 ]] && color=(--color=always)

{
    echo "make diff $n: what $b changed, compared with $a"
    echo
    for dir in Sources Tests; do git diff --no-index --stat=100 "${ignore[@]}" "$dir/$a" "$dir/$b"; done
    echo
    for dir in Sources Tests; do git diff --no-index "${color[@]}" "${ignore[@]}" "$dir/$a" "$dir/$b"; done
} | if [[ -t 1 ]]; then less -FRX; else cat; fi
exit 0
