#!/usr/bin/env bash
# bench.sh: what `make bench [N]`, `make bench-conns N` and `make bench-instr N` run: release builds of
# the bench tool, the C reference and the stages' servers, then one `bench` command.
#   scripts/bench.sh table        every stage and the C reference; writes bench/results.md
#   scripts/bench.sh table N      stage N and the C reference (printed only; BENCH_SERVER_FLAGS: the stage's flags)
#   scripts/bench.sh conns N      (BENCH_SERVER_FLAGS="--idle-timeout 60s": flags for the stage's server)
#   scripts/bench.sh instr N      stage N and the C reference; sets stage N's row in bench/results.md
#   scripts/bench.sh slow N       stage N with --workers 0 and 2 beside one client of slow requests;
#                                 its section of bench/results.md (`table` without N runs it too, v0.7 on)
set -euo pipefail
cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}
what=$1; shift
stages=("$@")
if [ ${#stages[@]} -eq 0 ]; then
    stages=($(scripts/stages.sh))
fi

if [ "$what" = instr ] && ! command -v valgrind >/dev/null; then
    echo "make bench-instr needs valgrind (Debian: apt-get install valgrind)" >&2
    exit 1
fi

# bench-instr holds every stage after v0.4 against v0.4 as well (Benchmark/InstructionCount.swift).
build=("${stages[@]}")
if [ "$what" = instr ] && [ "${stages[0]}" -gt 4 ]; then build+=(4); fi
echo "building (release): bench, c-echo-server, ${build[*]/#/v0.}-server"
for product in bench c-echo-server "${build[@]/#/v0.}"; do
    case $product in v0.*) product=$product-server ;; esac
    $SWIFT build -c release --quiet --product "$product"
done

toolchain=$($SWIFT --version 2>&1 | grep -m1 -o 'Swift version [^ ]*' || true)
case $what in
    table)
        if [ $# -eq 0 ]; then
            mkdir -p bench
            .build/release/bench table "${stages[@]}" --toolchain "$toolchain, release builds." --out bench/results.md
            last=${stages[${#stages[@]}-1]}
            if [ "$last" -ge 7 ]; then
                exec .build/release/bench slow "$last" --toolchain "$toolchain, release builds." --out bench/results.md
            fi
            exit 0
        fi
        exec .build/release/bench table "${stages[@]}" --toolchain "$toolchain, release builds." ${BENCH_SERVER_FLAGS:+--server-flags "$BENCH_SERVER_FLAGS"} ;;
    conns)
        exec .build/release/bench conns "${stages[0]}" ${BENCH_SERVER_FLAGS:+--server-flags "$BENCH_SERVER_FLAGS"} ;;
    slow)
        mkdir -p bench
        exec .build/release/bench slow "${stages[0]}" --toolchain "$toolchain, release builds." --out bench/results.md ;;
    instr)
        mkdir -p bench
        exec .build/release/bench instr "${stages[0]}" --out bench/results.md ${BENCH_SERVER_FLAGS:+--server-flags "$BENCH_SERVER_FLAGS"} ;;
esac
echo "bench.sh: unknown command $what" >&2
exit 2
