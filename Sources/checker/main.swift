// main.swift: the `checker` command: runs the conformance ladder of stage N against a server.
// Exit status: 0 if no behaviour failed (skipped ones do not count), 1 if any failed, 2 for a bad command line.
import Conformance
import Glibc

if CommandLine.arguments.contains("--help") {
    print(CheckerOptions.usage)
    print("Runs the conformance ladder (every behaviour of stages 1...N) against a server; --list shows it.")
    print("With --connect, the behaviours that read the server's /proc/PID are skipped (SKIP): they need --server.")
    exit(0)
}

let options: CheckerOptions
do {
    options = try CheckerOptions(arguments: Array(CommandLine.arguments.dropFirst()))
} catch {
    printError("checker", "\(error)")
    exit(2)
}

if options.list {
    let stage = options.stage >= 1 ? options.stage : Ladder.lastStage
    for line in Report.listing(Ladder.behaviours(upTo: stage)) { print(line) }
    exit(0)
}

do {
    try InterruptGuard.install()
} catch {
    printError("checker", "\(error)")
    exit(2)
}

let runner = LadderRunner(options: options, log: { print($0) })
let results = runner.run { result in
    print(Report.line(for: result))
    fflush(nil)                      // show progress now, also when stdout is a pipe (CI logs)
}
print(Report.summary(results))
exit(results.contains(where: \.failed) ? 1 : 0)    // a SKIP is not a failure
