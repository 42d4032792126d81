#!/usr/bin/env bash
# forward-port.sh K [COMMIT]: a fix made in stage K, made again in every later stage.
#
# The change is stage K's uncommitted change (Sources/v0.K and Tests/v0.K against HEAD; a new file
# counts once it is `git add`ed), or, with COMMIT, what that commit changed there. For each later
# stage M in turn, the patch is rewritten for M (paths v0.K -> v0.M, `Net_v0_K` -> `Net_v0_M`) and
# applied to the working tree: first as it is, then, if M's code around the change differs, as a
# three-way merge against the stage-K file the patch was made from. It stops at the first stage where
# neither works (a reject) and says what to do: make the change there by hand, then carry that
# stage's change on (`forward-port.sh M`), or go on with `--from M+1`.
#   scripts/forward-port.sh 1              v0.1's uncommitted fix, into v0.2, v0.3, ...
#   scripts/forward-port.sh 3 HEAD         what the last commit changed in v0.3, into v0.4, ...
#   scripts/forward-port.sh 1 --from 3     the same as the first, starting at v0.3
set -uo pipefail
cd "$(dirname "$0")/.."

k=${1:?usage: scripts/forward-port.sh K [COMMIT] [--from M]}
shift
commit="" from=""
while [[ $# -gt 0 ]]; do
    case $1 in
        --from) from=${2:?--from needs a stage}; shift 2 ;;
        *) commit=$1; shift ;;
    esac
done
stages=($(scripts/stages.sh))
if [[ ! " ${stages[*]} " == *" $k "* ]]; then echo "forward-port: there is no stage $k" >&2; exit 2; fi

paths=("Sources/v0.$k" "Tests/v0.$k")
if [[ -n $commit ]]; then
    patch=$(git diff --full-index "$commit^" "$commit" -- "${paths[@]}")
else
    patch=$(git diff --full-index HEAD -- "${paths[@]}")
fi
if [[ -z $patch ]]; then
    echo "forward-port: no change in ${paths[*]} ${commit:+in $commit }to carry forward" >&2
    exit 2
fi
files=$(grep -c '^diff --git' <<<"$patch")

for m in "${stages[@]}"; do
    (( m > k )) || continue
    [[ -n $from ]] && (( m < from )) && continue
    # Only the stage's folders and its module name differ between two stages' copies of a file.
    rewritten=$(sed -E -e "s#(Sources|Tests)/v0\.$k/#\1/v0.$m/#g" -e "s/Net_v0_$k\b/Net_v0_$m/g" <<<"$patch")
    if git apply --check <<<"$rewritten" 2>/dev/null; then
        git apply <<<"$rewritten"
        echo "forward-port: v0.$m: applied ($files files)"
        continue
    fi
    # M's code around the change differs: merge the change into it instead, as a cherry-pick would.
    # --3way works through the index, so it also stages what it merged (harmless: commit or reset).
    if merged=$(git apply --3way <<<"$rewritten" 2>&1); then
        echo "forward-port: v0.$m: applied by a three-way merge ($files files); read the result"
        continue
    fi
    echo "forward-port: v0.$m: REJECTED: its code around the change differs too much." >&2
    sed 's/^/forward-port:   /' <<<"$merged" >&2
    conflicted=$(git diff --name-only --diff-filter=U)
    if [[ -n $conflicted ]]; then
        echo "forward-port: conflict markers are in: $(echo $conflicted)" >&2
    fi
    echo "forward-port: make the change in v0.$m by hand, then carry it on from there with" >&2
    echo "forward-port:   scripts/forward-port.sh $m     (v0.$m's change, into the stages after it)" >&2
    echo "forward-port: or go on with this one:  scripts/forward-port.sh $k ${commit:+$commit }--from $((m + 1))" >&2
    exit 1
done
echo "forward-port: done"
