// Log.swift: unbuffered output: result lines to stdout, logs to stderr, and the one-line fatal exit.
// v0.1: printLine, log, fail.
// v0.3: write(2) may now say "would block"; these descriptors are blocking.
import Glibc

/// Writes one line to stdout with write(2). Not print(): print() is buffered when stdout is a pipe, so
/// a ready line could sit in our buffer while a test or `make stage` waits for it.
public func printLine(_ line: String) { writeLine(1, line) }

/// Writes one line to stderr, where every workbook program logs.
public func log(_ line: String) { writeLine(2, line) }

/// Prints `program: message` on stderr and exits with `status`: for bad flags (2) and failed
/// start-up (1), never for a peer's misbehaviour.
public func fail(_ message: String, status: CInt = 1) -> Never {
    log("\(programName): \(message)")
    exit(status)
}

/// The name this program was started as, without its directory ("v0.1-server").
public var programName: String {
    let path = CommandLine.arguments.first ?? "?"
    return path.split(separator: "/").last.map(String.init) ?? path
}

private func writeLine(_ fd: CInt, _ line: String) {
    var text = line + "\n"
    text.withUTF8 { sysWriteLogLine(fd, UnsafeRawBufferPointer($0)) }
}
