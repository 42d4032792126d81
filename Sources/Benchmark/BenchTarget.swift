// BenchTarget.swift: a server the bench measures (a stage's release build, or the C reference), and
// how it is started.
import Conformance
import Glibc

/// A server binary and its name in the table. Started with `--port {port}` (0: the server picks),
/// its stderr (the per-connection log lines) appended to a log file: a pipe nobody reads during a
/// run would fill up and stop the server mid-benchmark.
public struct BenchTarget: Sendable {
    public private(set) var name: String
    public let path: String
    /// Flags after `--port {port}` (a stage's: `--idle-timeout 60s`); the C reference takes none.
    public var flags = ""
    public var isReference: Bool { name == BenchTarget.referenceName }

    public static let referenceName = "C reference"

    /// The stage's server from the directory this executable was built into (release, for `make bench`).
    public static func stage(_ n: Int) throws -> BenchTarget {
        try BenchTarget(name: "v0.\(n)", product: "v0.\(n)-server")
    }

    public static func reference() throws -> BenchTarget {
        try BenchTarget(name: referenceName, product: "c-echo-server")
    }

    private init(name: String, product: String) throws {
        guard let path = builtProduct(product) else {
            throw CheckFailure("\(product) is not built next to \(builtProductsDirectory()) (make bench builds it: swift build -c release --product \(product))")
        }
        self.name = name
        self.path = path
    }

    /// The command line, with `prefix` (a profiler: valgrind ...) before the binary.
    public func command(logDirectory: String, prefix: String = "") -> String {
        let log = logDirectory + "/" + name.replacing(" ", with: "-") + ".log"
        return prefix + shellQuoted(path) + " --port {port}" + (flags.isEmpty ? "" : " " + flags) + " 2>>" + shellQuoted(log)
    }

    /// Starts it and waits for its ready line.
    public func start(logDirectory: String, prefix: String = "", readyTimeout: Duration = .seconds(10)) throws -> ServerProcess {
        _ = mkdir(logDirectory, 0o755)
        return try ServerProcess.start(command: command(logDirectory: logDirectory, prefix: prefix), readyTimeout: readyTimeout)
    }
}

extension BenchTarget {
    /// The same server started with `flags` (`--io-threads 2`), named with them in the table.
    public func with(flags: String) -> BenchTarget {
        guard !flags.isEmpty else { return self }
        var target = self
        target.flags = flags
        target.name = "\(name) \(flags)"
        return target
    }

    /// Whether v0.N-server is built here.
    public static func builtStage(_ n: Int) -> Bool { builtProduct("v0.\(n)-server") != nil }
}
