#!/usr/bin/env bash
# fuzz.sh N SECONDS: what `make fuzz [N]` runs. Builds two libFuzzer targets against stage N's library
# (fuzz/*.swift compiled with Sources/v0.N/Net/*.swift, under AddressSanitizer), runs each for SECONDS,
# and prints one line per target: executions and crashes. Exits non-zero if any target crashed.
set -uo pipefail
cd "$(dirname "$0")/.."

n=${1:?usage: scripts/fuzz.sh N SECONDS}
seconds=${2:-60}
v="v0.$n"
if [[ ! -d Sources/$v ]]; then echo "fuzz: there is no stage $n" >&2; exit 2; fi
if [[ ! -f Sources/$v/Net/FrameCodec.swift ]]; then
    echo "fuzz: $v has no frame codec or IOBuffer to fuzz: they arrive in v0.2" >&2; exit 2
fi
out=".build/fuzz/$v"
mkdir -p "$out"
targets=("frame-decoder:FrameDecoderFuzz.swift" "io-buffer:IOBufferFuzz.swift")

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
    if ! swiftc -O -g -D DEBUG -sanitize=fuzzer,address -parse-as-library -module-name Fuzz -I Sources/CLinux/include \
            "Sources/$v/Net/"*.swift "fuzz/$file" -o "$out/$name" 2> >(grep -v "Cannot export local symbol" >&2); then
        echo "fuzz: $name did not build" >&2; failed=1; continue
    fi
    corpus="$out/corpus-$name"          # grows run after run; the committed seeds stay as they are
    mkdir -p "$corpus"
    log="$out/$name.log"
    # -timeout: one input running 10 s counts as a hang. The outer timeout is a last resort.
    timeout -s KILL $((seconds + 120)) "$out/$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$out/" "$corpus" "fuzz/corpus/$name" > "$log" 2>&1
    status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [[ $status -eq 0 ]]; then
        printf 'fuzz: %-14s %s  %3s s  %10s executions  0 crashes\n' "$name" "$v" "$seconds" "${runs:-?}"
    else
        failed=1
        printf 'fuzz: %-14s %s  CRASHED (exit %s) after %s executions; input saved as %s\n' \
            "$name" "$v" "$status" "${runs:-?}" "$(sed -n 's/.*Test unit written to //p' "$log" | tail -1)"
        grep -m 3 -E "Fatal error|ERROR: AddressSanitizer|SUMMARY" "$log" | sed 's/^/fuzz:   /'
        echo "fuzz:   full log: $log   (replay: $out/$name <saved input>)"
    fi
done
exit "$failed"
