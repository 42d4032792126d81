// Flags.swift: a tiny command-line parser: `--name value`, `--name=value`, `--switch`, bare words.
// v0.1: enough for --host/--port; every error is one line that names the flag.
// v0.2: --max-frame.
// v0.5: sizes with a unit (64KiB, 4MiB), as the wire contract's flags take them from v0.5 on.
// v0.6: durations with a unit (250ms, 5s, 2m).
import Glibc

/// A bad command line, said in one line.
public struct UsageError: Error, CustomStringConvertible {
    public let description: String
}

/// Parses the process's arguments with `parse`. `--help` prints `usage` and exits 0.
/// PITFALL: a bad flag must not crash the program (a stack trace, a signal) or half-start it: it
/// prints one line and exits 2.
/// Guarded by: Tests/v0.N/EchoServerTests.swift "bad flags print one line and exit 2".
public func parseCommandLineOrExit<Options>(usage: String, _ parse: (ArraySlice<String>) throws -> Options) -> Options {
    let arguments = CommandLine.arguments.dropFirst()
    if arguments.prefix(while: { $0 != "--" }).contains("--help") {
        printLine(usage)
        exit(0)
    }
    do {
        return try parse(arguments)
    } catch {
        fail("\(error) (try --help)", status: 2)
    }
}

/// The parsed command line. Only the flags a program declares are accepted, so a typo ("--prot")
/// is an error instead of being silently ignored.
struct Flags {
    private var values: [String: String] = [:]
    private var switches: Set<String> = []
    private(set) var words: [String] = []

    /// `valued`: flags that take a value ("--port"); `switches`: flags that stand alone ("--demo").
    /// A bare `--` ends the flags: every argument after it is a word, even "--like-this".
    init(_ arguments: ArraySlice<String>, valued: Set<String>, switches known: Set<String>) throws {
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            if argument == "--" { words += rest; break }
            guard argument.hasPrefix("--") else { words.append(argument); continue }
            // PITFALL: split(separator:) drops empty pieces by default, so "--port=" would look like
            // "--port" and take the next argument as its value.
            // Guarded by: Tests/v0.N/FlagsTests.swift "an empty --port= is an error".
            let parts = argument.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let name = parts[0]
            if known.contains(name), parts.count == 1 {
                switches.insert(name)
            } else if valued.contains(name) {
                guard let value = parts.count == 2 ? parts[1] : rest.popFirst(), !value.isEmpty else {
                    throw UsageError(description: "\(name) needs a value")
                }
                values[name] = value
            } else {
                throw UsageError(description: "unknown flag '\(argument)'")
            }
        }
    }

    func has(_ name: String) -> Bool { switches.contains(name) }

    func string(_ name: String, default fallback: String) -> String { values[name] ?? fallback }

    func int(_ name: String, default fallback: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let text = values[name] else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw UsageError(description: "invalid value '\(text)' for \(name): expected \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    /// The host and port flags every workbook program shares, checked together.
    func address() throws -> SocketAddress {
        let host = string("--host", default: "127.0.0.1")
        let port = try int("--port", default: 7777, in: 0...65535)
        guard let address = SocketAddress(host: host, port: UInt16(port)) else {
            throw UsageError(description: "invalid value '\(host)' for --host: expected an IPv4 address like 127.0.0.1")
        }
        return address
    }

    /// A size: bytes (`65536`), or a number with a unit: `KiB`, `MiB`, `GiB` (powers of 1024).
    func size(_ name: String, default fallback: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let text = values[name] else { return fallback }
        let units = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("", 1)]
        let (unit, scale) = units.first { text.hasSuffix($0.0) }!
        guard let number = Int(text.dropLast(unit.count)), number >= 0,
              case let (value, overflow) = number.multipliedReportingOverflow(by: scale), !overflow, range.contains(value) else {
            throw UsageError(description: "invalid value '\(text)' for \(name): expected a size of \(range.lowerBound)...\(range.upperBound) bytes, like 65536 or 64KiB")
        }
        return value
    }

    /// A duration with its unit: `250ms`, `5s`, `2m` (or `0`, which the timeouts read as "off").
    func duration(_ name: String, default fallback: Duration, atMost limit: Duration = .seconds(86_400)) throws -> Duration {
        guard let text = values[name] else { return fallback }
        let units: [(String, Duration)] = [("ms", .milliseconds(1)), ("s", .seconds(1)), ("m", .seconds(60))]
        let match = units.first { text.hasSuffix($0.0) && Int(text.dropLast($0.0.count)) != nil }
        let value = text == "0" ? Duration.zero : match.flatMap { unit in Int(text.dropLast(unit.0.count)).map { unit.1 * $0 } }
        guard let value, value >= .zero, value <= limit else {
            throw UsageError(description: "invalid value '\(text)' for \(name): expected a duration with its unit, like 250ms, 5s or 2m")
        }
        return value
    }

    /// --max-frame: the largest frame payload, from 0 to 1 GiB (the header could announce 4 GiB).
    func maxFrame() throws -> Int {
        try size("--max-frame", default: FrameCodec.defaultMaxFrame, in: 0...(1 << 30))
    }
}
