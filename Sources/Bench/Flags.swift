// Flags.swift: the command lines of `loadgen` and `bench`: `--name value` pairs, checked, with one
// line of error for anything else.
import Conformance
import Glibc

/// `--name value` flags in any order. Every flag must be known; values are read with their type.
package struct Flags {
    private var values: [String: String] = [:]
    package private(set) var positionals: [String] = []

    package init(_ arguments: [String], known: Set<String>) throws {
        var rest = arguments[...]
        while let word = rest.popFirst() {
            guard word.hasPrefix("--") else { positionals.append(word); continue }
            let name = String(word.dropFirst(2))
            guard known.contains(name) else { throw FlagError("unknown flag \(word)") }
            guard let value = rest.popFirst() else { throw FlagError("\(word) needs a value") }
            values[name] = value
        }
    }

    package func string(_ name: String) -> String? { values[name] }

    package func int(_ name: String, default fallback: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = values[name] else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw FlagError("--\(name) wants a whole number in \(range.lowerBound)...\(range.upperBound), not \(text)")
        }
        return value
    }

    /// Seconds, fractions allowed: `--duration 2.5`.
    package func seconds(_ name: String, default fallback: Duration, range: ClosedRange<Double>) throws -> Duration {
        guard let text = values[name] else { return fallback }
        guard let value = Double(text), range.contains(value) else {
            throw FlagError("--\(name) wants seconds in \(range.lowerBound)...\(range.upperBound), not \(text)")
        }
        return .milliseconds(Int64((value * 1000).rounded()))
    }
}

package struct FlagError: Error, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}

/// `program: message` on stderr, in one write, then exit: how loadgen and bench end on a bad flag
/// (status 2) or a server they cannot measure (status 1).
package func exitWithMessage(_ program: String, _ message: String, status: Int32) -> Never {
    sysWriteAll(2, Array("\(program): \(message)\n".utf8))
    exit(status)
}
