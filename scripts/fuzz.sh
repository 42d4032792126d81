#!/usr/bin/env bash
# fuzz.sh N SECONDS [PITFALL]: what `make fuzz [N] [PITFALL=name] [FUZZ_TARGET=name]` runs. Builds stage N's libFuzzer
# targets (fuzz/*.swift, each compiled with Sources/v0.N/Net/*.swift, under AddressSanitizer): the
# frame decoder and the IOBuffer from v0.2, a connection's whole life from v0.3. Runs each for SECONDS
# from the seeds in fuzz/corpus/ (and what earlier runs found), and prints one line per target:
# executions and crashes. Exits non-zero if any target crashed. FUZZ_TARGET=name runs that one only.
#
# With PITFALL, it first puts pitfalls/v0.N/PITFALL.patch back in a scratch copy of the tree (as
# `make pitfalls` does) and fuzzes that copy from the seeds alone, less those named found-* (inputs a
# fuzzer found, committed so that every run replays them): does a bounded run find the bug from
# scratch? It prints how many executions and seconds that took, and exits non-zero if it did not.
set -uo pipefail
cd "$(dirname "$0")/.."

n=${1:?usage: scripts/fuzz.sh N SECONDS [PITFALL]}
seconds=${2:-60}
pitfall=${3:-}
v="v0.$n"
if [[ ! -d Sources/$v ]]; then echo "fuzz: there is no stage $n" >&2; exit 2; fi
if [[ ! -f Sources/$v/Net/FrameCodec.swift ]]; then
    echo "fuzz: $v has no frame codec or IOBuffer to fuzz: they arrive in v0.2" >&2; exit 2
fi

if [[ -n $pitfall ]]; then
    patch=pitfalls/$v/$pitfall.patch
    if [[ ! -f $patch ]]; then echo "fuzz: there is no $patch" >&2; exit 2; fi
    source scripts/scratch-tree.sh
    init_scratch
    sync_tree
    if ! apply_to_scratch "$patch"; then echo "fuzz: $patch no longer applies" >&2; sync_tree; exit 2; fi
    echo "fuzz: $v with the pitfall $pitfall put back (in $scratch), from the seeds less found-*"
    (cd "$scratch" && FUZZ_FRESH=1 scripts/fuzz.sh "$n" "$seconds")
    status=$?
    sync_tree                                  # the scratch copy as the tree is, without the bug
    if [[ $status -ne 0 ]]; then
        echo "fuzz: (the paths above are in $scratch; the scratch copy is back to your tree, the binaries keep the bug)"
        echo "fuzz: the fuzzer found $pitfall: it bites"
        exit 0
    fi
    echo "fuzz: MISSED: $seconds s per target did not find $pitfall"
    exit 1
fi

out=".build/fuzz/$v"
mkdir -p "$out"
targets=("frame-decoder:FrameDecoderFuzz.swift" "io-buffer:IOBufferFuzz.swift")
# A connection's whole life needs the event loop (v0.3); its clients part, TCPClient (v0.4).
# (Its routing, hooks and lingering close need the Router, v0.5.)
if [[ -f Sources/$v/Net/EventLoop.swift ]]; then targets+=("connection-life:ConnectionLifeFuzz.swift"); fi
if [[ -n ${FUZZ_TARGET:-} ]]; then      # one target only
    for entry in "${targets[@]}"; do [[ ${entry%%:*} == "$FUZZ_TARGET" ]] && targets=("$entry") && break; done
    if [[ ${targets[0]%%:*} != "$FUZZ_TARGET" ]]; then echo "fuzz: $v has no target $FUZZ_TARGET" >&2; exit 2; fi
fi
defines=()
if [[ -f Sources/$v/Net/TCPClient.swift ]]; then defines+=(-D FUZZ_TCPCLIENT); fi
if [[ -f Sources/$v/Net/Router.swift ]]; then defines+=(-D FUZZ_ROUTER); fi
if [[ -f Sources/$v/Net/SlowHandlers.swift ]]; then defines+=(-D FUZZ_SLOW); fi

# A crash under ASan must end the run, not hang it: Swift's crash backtracer waits on the process
# the sanitizer is already reporting on. The fuzzer's own report (and the saved input) say enough.
export SWIFT_BACKTRACE=enable=no

failed=0
for entry in "${targets[@]}"; do
    name=${entry%%:*} file=${entry#*:}
    echo "fuzz: building $name against $v ..."
    # The gold linker warns about ASan's local symbols on every link; those lines say nothing.
    # -I: the library imports CLinux, whose module map lives there. -D DEBUG: an optimized build, with
    # the checks a debug build keeps (TCPConnection's checked references to its loop and owner).
    if ! swiftc -O -g -D DEBUG "${defines[@]}" -sanitize=fuzzer,address -parse-as-library -module-name Fuzz -I Sources/CLinux/include \
            "Sources/$v/Net/"*.swift "fuzz/$file" -o "$out/$name" 2> >(grep -v "Cannot export local symbol" >&2); then
        echo "fuzz: $name did not build" >&2; failed=1; continue
    fi
    corpus="$out/corpus-$name"          # grows run after run; the committed seeds stay as they are
    seeds="fuzz/corpus/$name"
    if [[ -n ${FUZZ_FRESH:-} ]]; then   # from the seeds alone, less the inputs a fuzzer found
        rm -rf "$corpus" "$out/seeds-$name"
        mkdir -p "$out/seeds-$name"
        find "$seeds" -maxdepth 1 -type f ! -name 'found-*' -exec cp {} "$out/seeds-$name/" \;
        seeds="$out/seeds-$name"
    fi
    mkdir -p "$corpus"
    log="$out/$name.log"
    # -timeout: one input running 10 s counts as a hang. The outer timeout is a last resort.
    started=$SECONDS
    timeout -s KILL $((seconds + 120)) "$out/$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$out/" "$corpus" "$seeds" > "$log" 2>&1
    status=$?
    took=$((SECONDS - started))
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [[ $status -eq 0 ]]; then
        printf 'fuzz: %-15s %s  %3s s  %10s executions  0 crashes\n' "$name" "$v" "$seconds" "${runs:-?}"
    else
        failed=1
        printf 'fuzz: %-15s %s  CRASHED (exit %s) after %s executions in %s s; input saved as %s\n' \
            "$name" "$v" "$status" "${runs:-?}" "$took" "$(sed -n 's/.*Test unit written to //p' "$log" | tail -1)"
        grep -m 3 -E "Fatal error|ERROR: AddressSanitizer|SUMMARY" "$log" | sed 's/^/fuzz:   /'
        # An optimized build traps on a failed precondition without its message: the first frames of
        # our own code say which one.
        grep -E '^ *#[0-9]+ 0x[0-9a-f]+ in [^ ]+ [^ ]+\.swift:[0-9]+' "$log" | head -n 3 |
            while read -r _ _ _ symbol place; do
                printf 'fuzz:   at %s (%s)\n' "$(swift demangle --simplified "$symbol" 2>/dev/null | sed 's/^.* ---> //')" "${place##*/}"
            done
        echo "fuzz:   full log: $log   (replay: $out/$name <saved input>)"
    fi
done
exit "$failed"
