# Makefile: the learner's interface to the workbook. `make help` lists every command.
# Commands take the stage as a bare number: `make stage 2`, `make diff 2` (`N=2` works too).

SHELL   := /bin/bash
FUZZ_SECONDS ?= 60
SWIFT   ?= swift
BIN     := .build/debug
STAGES  := $(shell scripts/stages.sh)
LATEST  := $(lastword $(STAGES))

# `make stage 2`: make reads "2" as a second goal. Take it as N, and give it an empty recipe so make
# does not go looking for a file called "2".
COMMANDS := stage server client diff test check pitfalls fuzz bench bench-conns bench-instr bench-slow e2e
ifneq ($(filter $(firstword $(MAKECMDGOALS)),$(COMMANDS)),)
  ifneq ($(word 2,$(MAKECMDGOALS)),)
    N ?= $(word 2,$(MAKECMDGOALS))
    $(eval $(word 2,$(MAKECMDGOALS)):;@:)
  endif
endif

# Stops with a usage line unless N names a stage that exists.
need-stage = @if [ -z "$(N)" ] || [ -z "$(filter $(N),$(STAGES))" ]; then \
	echo "usage: make $@ N   (N is a stage: $(STAGES))" >&2; exit 2; fi

.PHONY: help stage server client diff test check pitfalls fuzz sanitize bench bench-conns bench-instr bench-slow e2e clean

help:
	@echo "The workbook: a network server in Swift, built in stages v0.1..v0.$(LATEST)."
	@echo
	@echo "  make stage N            build stage N, start its server, run the client demo, show both sides"
	@echo "  make server N [ARGS=..] run v0.N-server by hand (default port 7777; ARGS=\"--port 0\" picks one)"
	@echo "  make client N [ARGS=..] run v0.N-client by hand (ARGS=\"--demo\", or messages to send)"
	@echo "  make diff N             what stage N changed: diffstat, then the diff from v0.(N-1)"
	@echo "  make test               every test of every stage, and the conformance ladder against each"
	@echo "  make test N             stage N's tests and its conformance ladder"
	@echo "  make check N            the conformance ladder (behaviours of stages 1..N) against v0.N-server"
	@echo "  make check N SERVER=\"cmd\" the same ladder against your own server command"
	@echo "  make pitfalls [N]       put each pitfall of stage N (default: every stage) back, and watch its test fail"
	@echo "  make pitfalls N PITFALL=name   one pitfall, with the failing test's output"
	@echo "  make fuzz [N]           fuzz stage N's frame decoder, IOBuffer and connections (default: latest; FUZZ_SECONDS=60 each)"
	@echo "  make fuzz N PITFALL=name  put a pitfall back in a scratch copy: does the fuzzer find it?"
	@echo "  make sanitize           every test under AddressSanitizer, then under ThreadSanitizer"
	@echo "  make bench              every stage and the C reference under the same loads: one table, then (v0.7 on) bench-slow (bench/results.md)"
	@echo "  make bench N [ARGS=..]  the same for stage N and the C reference (ARGS: the stage's server flags)"
	@echo "  make bench-conns N [ARGS=..]  how many idle connections stage N holds, and its memory per connection (ARGS: server flags)"
	@echo "  make bench-instr N [ARGS=..]  stage N's instructions per round trip against the C reference (valgrind; row in bench/results.md)"
	@echo "  make bench-slow N       echoes beside one client of slow requests, --workers 0 against 2 (v0.7 on; section in bench/results.md)"
	@echo "  make e2e                (not built yet: see the stage map in README.md)"
	@echo
	@echo "Stages here: $(STAGES)"

stage:
	$(need-stage)
	@scripts/stage.sh $(N)

server:
	$(need-stage)
	@$(SWIFT) build --quiet --product v0.$(N)-server
	$(BIN)/v0.$(N)-server $(ARGS)

client:
	$(need-stage)
	@$(SWIFT) build --quiet --product v0.$(N)-client
	$(BIN)/v0.$(N)-client $(ARGS)

diff:
	$(need-stage)
	@scripts/diff.sh $(N)

test:
ifeq ($(N),)
	$(SWIFT) test
else
	$(need-stage)
	$(SWIFT) test --filter 'v0_$(N)_tests\.' --filter 'Ladder\.LadderV0_$(N)\b'
endif

check:
	$(need-stage)
	@$(SWIFT) build --quiet --product checker
	@$(SWIFT) build --quiet --product v0.$(N)-server
	$(BIN)/checker --stage $(N) --server "$(if $(SERVER),$(SERVER),$(BIN)/v0.$(N)-server)"

# Each patch in pitfalls/v0.N puts one bug back in a scratch copy of the tree (.build-pitfalls), which
# is built and tested there: your working tree is never touched.
pitfalls:
	@if [ -n "$(N)" ] && [ -z "$(filter $(N),$(STAGES))" ]; then echo "usage: make pitfalls [N] [PITFALL=name]   (N is a stage: $(STAGES))" >&2; exit 2; fi
	@scripts/pitfalls.sh "$(N)" "$(PITFALL)"

fuzz:
	@FUZZ_TARGET="$(FUZZ_TARGET)" scripts/fuzz.sh $(if $(N),$(N),$(LATEST)) $(FUZZ_SECONDS) "$(PITFALL)"

# Each sanitizer builds into its own folder, so the normal build stays as it is. The servers the tests
# start come from the same folder, so they run instrumented too. --disable-xctest: the package has no
# XCTest tests, and XCTest's empty run reports leaks of its own at exit. SWIFT_BACKTRACE: a sanitizer
# report must end the run, and Swift's crash backtracer would wait on the process being reported.
sanitize:
	SWIFT_BACKTRACE=enable=no $(SWIFT) test --disable-xctest --sanitize=address --scratch-path .build-asan
	SWIFT_BACKTRACE=enable=no $(SWIFT) test --disable-xctest --sanitize=thread --scratch-path .build-tsan
	@# Proof that TSan ran at all: its build of tsan-canary must report the canary's deliberate race.
	@SWIFT_BACKTRACE=enable=no .build-tsan/debug/tsan-canary race >/dev/null 2>.build-tsan/canary.log; \
	if [ $$? -eq 66 ] && grep -q 'WARNING: ThreadSanitizer' .build-tsan/canary.log; then \
		echo "ThreadSanitizer runs: it reported tsan-canary's deliberate race"; \
	else echo "ThreadSanitizer did not report tsan-canary's deliberate race: it is not running" >&2; exit 1; fi

# Release builds, the server on CPU 0 and the load on CPU 1; see bench/README.md for reading the table.
bench:
ifeq ($(N),)
	@scripts/bench.sh table
else
	$(need-stage)
	@BENCH_SERVER_FLAGS="$(ARGS)" scripts/bench.sh table $(N)
endif

bench-conns:
	$(need-stage)
	@BENCH_SERVER_FLAGS="$(ARGS)" scripts/bench.sh conns $(N)

bench-instr:
	$(need-stage)
	@BENCH_SERVER_FLAGS="$(ARGS)" scripts/bench.sh instr $(N)

bench-slow:
	$(need-stage)
	@scripts/bench.sh slow $(N)

e2e:
	@echo "make e2e: not built yet; it comes with stage 11." >&2; exit 1

clean:
	$(SWIFT) package clean
