#!/usr/bin/env bash
# pitfalls.sh [N] [NAME]: what `make pitfalls [N] [PITFALL=NAME]` runs. Every pitfall a stage guards
# against has a patch, pitfalls/v0.N/NAME.patch, that puts the bug back. For each one this script
# applies the patch to a scratch copy of the tree (never to yours), builds it, runs the test that
# guards the pitfall, and says whether the test caught the bug:
#   bites   NAME  TEST  failed as it should
#   MISSED  NAME  TEST  passed with the bug in
# then `N passed, N failed`. A patch that no longer applies, or a tree that does not build with it,
# is a failure too. With NAME, it runs that one patch and shows the test's output: watch the bug bite.
#
# A patch starts with three lines before its diff (git apply skips them):
#   Pitfall: what goes wrong, in one line
#   Guarded by: Tests/v0.N/File.swift "the test's name"     (or: the ladder's BEHAVIOUR (make check N))
#   Run: test FILTER                  swift test --filter FILTER, in the scratch tree
#   Run: check N BEHAVIOUR [FLAGS]    the checker, one behaviour, against that tree's v0.N-server FLAGS
#   Note: ...                         (optional) where the guard measures or races rather than proves
set -uo pipefail
cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}

only_stage=${1:-}
only_name=${2:-}
if [[ -n $only_stage ]]; then stages=("$only_stage"); else stages=($(scripts/stages.sh)); fi
source scripts/scratch-tree.sh
log=.build-pitfalls/last.log
init_scratch

field() { sed -n "s/^$1: //p" "$2" | head -n 1; }

build() { (cd "$scratch" && $SWIFT build --build-tests --quiet) >"$log" 2>&1; }

# Runs one `Run:` line in the scratch tree; its exit status is the guard's verdict (0: passed).
malformed=0
run_guard() {
    local kind rest stage behaviour flags
    read -r kind rest <<<"$1"
    case $kind in
        test)
            (cd "$scratch" && SWIFT_BACKTRACE=enable=no $SWIFT test --skip-build --filter "$rest") >"$log" 2>&1 ;;
        check)
            read -r stage behaviour flags <<<"$rest"
            (cd "$scratch" && .build/debug/checker --stage "$stage" --only "$behaviour" \
                --server ".build/debug/v0.$stage-server${flags:+ $flags}") >"$log" 2>&1 ;;
        *)
            malformed=1; echo "its Run: line says neither test nor check: $1" >"$log"; return 1 ;;
    esac
}

passed=0 failed=0 ran=0
for n in "${stages[@]}"; do
    patches=()
    for patch in pitfalls/v0."$n"/*.patch; do
        [[ -e $patch ]] || continue
        [[ -n $only_name && $(basename "$patch" .patch) != "$only_name" ]] && continue
        patches+=("$patch")
    done
    [[ ${#patches[@]} -eq 0 ]] && continue

    # The control: without any bug in, every guard must pass, or its failing later would prove nothing.
    sync_tree
    echo "        v0.$n: building the tree as it is, and running the guards without any bug in ..."
    control_ok=1
    mapfile -t runs < <(for patch in "${patches[@]}"; do field "Run" "$patch"; done | sort -u)
    # One `swift test` for all of the stage's guarding tests (the filter is a regular expression).
    filters=$(printf '%s\n' "${runs[@]}" | sed -n 's/^test //p' | paste -s -d '|')
    controls=(${filters:+"test $filters"})
    for run in "${runs[@]}"; do [[ $run == test\ * ]] || controls+=("$run"); done
    if ! build; then
        echo "FAILED  v0.$n: the tree does not build ($log)"; control_ok=0
    else
        for run in "${controls[@]}"; do
            if ! run_guard "$run"; then
                cp "$log" ".build-pitfalls/control-v0.$n.log"
                echo "FAILED  v0.$n: \`$run\` fails without any bug in, so it cannot prove one:"
                grep -E '✘ Test .* (recorded an issue|failed)|^FAIL ' "$log" | head -n 5 | sed 's/^/        /'
                echo "        (the whole output: .build-pitfalls/control-v0.$n.log)"
                control_ok=0; break
            fi
        done
    fi
    if [[ $control_ok -eq 0 ]]; then
        ran=$((ran + ${#patches[@]})); failed=$((failed + ${#patches[@]})); continue
    fi

    for patch in "${patches[@]}"; do
        name=$(basename "$patch" .patch)
        ran=$((ran + 1))
        guard=$(field "Guarded by" "$patch")
        run=$(field "Run" "$patch")
        sync_tree
        if ! apply_to_scratch "$patch" >"$log" 2>&1; then
            printf 'FAILED  %-28s the patch no longer applies: %s\n' "$name" "$(head -n 1 "$log")"
            failed=$((failed + 1)); continue
        fi
        echo "        $name: building with the bug in ..."
        if ! build; then
            printf 'FAILED  %-28s does not build with the bug in (%s)\n' "$name" "$log"
            failed=$((failed + 1)); continue
        fi
        malformed=0
        run_guard "$run"
        status=$?
        if [[ $malformed -eq 1 ]]; then
            printf 'FAILED  %-28s %s\n' "$name" "$(cat "$log")"
            failed=$((failed + 1))
        elif [[ $status -ne 0 ]]; then
            printf 'bites   %-28s %s failed as it should\n' "$name" "$guard"
            passed=$((passed + 1))
        else
            printf 'MISSED  %-28s %s passed with the bug in\n' "$name" "$guard"
            failed=$((failed + 1))
        fi
        if [[ -n $only_name ]]; then
            note=$(field "Note" "$patch")
            [[ -n $note ]] && echo "        (note: $note)"
            echo
            echo "The test's output with the bug in ($run):"
            grep -v '^\[[0-9]*/[0-9]*\]\|^Building\|^Build complete\|^Test Suite\|Executed 0 tests\|^◇\|^↳ Testing Library\|^↳ Target Platform' "$log" |
                tail -n 40 | sed 's/^/    /'
        fi
    done
done
sync_tree   # leave the scratch copy as the tree is, without the last bug
if [[ $ran -eq 0 ]]; then
    echo "pitfalls: no patch ${only_name:+named $only_name }in pitfalls/v0.${only_stage:-*}/" >&2
    exit 2
fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
