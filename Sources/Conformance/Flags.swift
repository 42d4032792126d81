// Flags.swift: the one command-line parser of the tools (checker, loadgen, bench): `--name value`,
// `--name=value`, `--switch` and bare words, with one line of error for anything else.
import Glibc

/// Flags in any order. Every flag must be declared, so a typo ("--prot") is an error instead of
/// being silently ignored; values are read with their type and range.
package struct Flags {
    private var values: [String: String] = [:]
    private var switches: Set<String> = []
    package private(set) var positionals: [String] = []

    /// `valued`: names (without the dashes) of flags that take a value; `switches`: of flags that
    /// stand alone. A value is the next argument or follows `=`; `--port=` (empty) is an error, not
    /// a request for the next argument.
    package init(_ arguments: [String], valued: Set<String>, switches known: Set<String> = []) throws {
        var rest = arguments[...]
        while let word = rest.popFirst() {
            guard word.hasPrefix("--") else { positionals.append(word); continue }
            let equals = word.firstIndex(of: "=")
            let name = String(word[word.index(word.startIndex, offsetBy: 2)..<(equals ?? word.endIndex)])
            if known.contains(name) {
                guard equals == nil else { throw UsageError("--\(name) takes no value") }
                switches.insert(name)
            } else if valued.contains(name) {
                let value = equals.map { String(word[word.index(after: $0)...]) } ?? rest.popFirst()
                guard let value, !value.isEmpty else { throw UsageError("--\(name) needs a value") }
                values[name] = value
            } else {
                throw UsageError("unknown flag \(word)")
            }
        }
    }

    package func has(_ name: String) -> Bool { switches.contains(name) }

    package func string(_ name: String) -> String? { values[name] }

    package func int(_ name: String, default fallback: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = values[name] else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw UsageError("--\(name) wants a whole number in \(range.lowerBound)...\(range.upperBound), not \(text)")
        }
        return value
    }

    /// Seconds, fractions allowed: `--duration 2.5`.
    package func seconds(_ name: String, default fallback: Duration, range: ClosedRange<Double>) throws -> Duration {
        guard let text = values[name] else { return fallback }
        guard let value = Double(text), range.contains(value) else {
            throw UsageError("--\(name) wants seconds in \(range.lowerBound)...\(range.upperBound), not \(text)")
        }
        return .milliseconds(Int64((value * 1000).rounded()))
    }
}

/// A bad command line; its description is one line for stderr.
public struct UsageError: Error, CustomStringConvertible, Sendable {
    public let description: String
    package init(_ description: String) { self.description = description }
}

/// `program: message` on stderr, in one write, then exit: how every tool ends on a bad command line
/// (status 2) or on something it cannot do (status 1).
package func exitWithMessage(_ program: String, _ message: String, status: Int32) -> Never {
    printError(program, message)
    exit(status)
}

/// `program: message` on stderr, in one write (print(_:) writes stdout only).
package func printError(_ program: String, _ message: String) {
    sysWriteAll(2, Array("\(program): \(message)\n".utf8))
}
