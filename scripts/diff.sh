#!/usr/bin/env bash
# diff.sh N [--stat]: what `make diff N` runs: the lesson of stage N as a diff from stage N-1 (sources,
# then tests), with a diffstat first. Each stage imports its own library (`import Net_v0_N`); a file
# whose only change is that line is left out.
#
# Where the stage's chapter gives a reading order (a numbered list of backquoted paths right after the
# line `<!-- make diff N: reading order -->`), the source files come in that order, in the diffstat and
# in the diff, and the files the list does not name follow. `--stat` prints the diffstat alone: the
# chapters quote it, and Tests/Chapters checks that the quote is still what this prints.
set -uo pipefail
cd "$(dirname "$0")/.."

n=${1:?usage: scripts/diff.sh N [--stat]}
stat_only=${2:-}
if [[ $n -le 1 ]]; then
    echo "Stage 1 is where the workbook starts: there is no stage before it. Read Sources/v0.1 and chapters/01-*."
    exit 0
fi
a="v0.$((n - 1))" b="v0.$n"
ignore=(-I '^(@testable )?import Net_v0_[0-9]+$')
color=()
[[ -t 1 && -z $stat_only ]] && color=(--color=always)

chapter=$(ls chapters/"$(printf '%02d' "$n")"-*/README.md 2>/dev/null | head -n 1)
order=()
if [[ -n $chapter ]]; then
    while IFS= read -r path; do order+=("$path"); done < <(awk -v marker="<!-- make diff $n: reading order -->" '
        index($0, marker) { listing = 1; next }
        listing && /^[0-9]+\. / { if (match($0, /`[^`]+`/)) print substr($0, RSTART + 1, RLENGTH - 2); next }
        listing && /^ / { next }               # a list item continued on the next line
        listing { exit }' "$chapter")
fi

# The stage-N path a diffstat line is about: `Sources/{v0.2 => v0.3}/Net/X.swift`, `/dev/null =>
# Sources/v0.3/Net/X.swift` (new) or `Sources/v0.2/Net/X.swift => /dev/null` (removed, kept as is).
stat_path() {
    sed -E -e 's/^ *//' -e 's/ *\|.*$//' -e 's#^/dev/null => ##' -e 's# => /dev/null$##' \
        -e "s#\\{$a => $b\\}#$b#" <<<"$1"
}

# The sources' diffstat, its lines in the reading order, then the others, then the summary line.
sources_stat() {
    local lines=() summary="" line path
    while IFS= read -r line; do
        if [[ $line == *"|"* ]]; then lines+=("$line"); else summary=$line; fi
    done < <(git diff --no-index --stat=100 "${ignore[@]}" "Sources/$a" "Sources/$b")
    local printed=()
    for path in "${order[@]}"; do
        for line in "${lines[@]}"; do
            if [[ $(stat_path "$line") == "$path" ]]; then echo "$line"; printed+=("$path"); fi
        done
    done
    for line in "${lines[@]}"; do
        path=$(stat_path "$line")
        [[ " ${printed[*]} " == *" $path "* ]] || echo "$line"
    done
    [[ -n $summary ]] && echo "$summary"
}

if [[ $stat_only == --stat ]]; then
    sources_stat
    exit 0
fi

# One file's diff: stage N's path, and the same path in stage N-1 (or /dev/null where there is none).
file_diff() {
    local new=$1 old=${1/\/$b\//\/$a\/}
    [[ -e $old ]] || old=/dev/null
    [[ -e $new ]] || new=/dev/null
    git diff --no-index "${color[@]}" "${ignore[@]}" "$old" "$new"
}

{
    echo "make diff $n: what $b changed, compared with $a${order[0]+ (in the reading order of $chapter)}"
    echo
    sources_stat
    git diff --no-index --stat=100 "${ignore[@]}" "Tests/$a" "Tests/$b"
    echo
    for path in "${order[@]}"; do file_diff "$path"; done
    # Then every other source file of either stage, in name order, and the tests.
    for path in $( (cd Sources && find "$a" "$b" -type f) | sed -E "s#^($a|$b)/#Sources/$b/#" | sort -u); do
        [[ " ${order[*]} " == *" $path "* ]] || file_diff "$path"
    done
    git diff --no-index "${color[@]}" "${ignore[@]}" "Tests/$a" "Tests/$b"
} | if [[ -t 1 ]]; then less -FRX; else cat; fi
exit 0
