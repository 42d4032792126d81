// CheckerOptions.swift: the checker's command line, parsed and validated.

/// What to check and against what. `checker --help` text is `CheckerOptions.usage`.
public struct CheckerOptions: Sendable {
    /// Where the server comes from.
    public enum Target: Sendable {
        /// A command the checker starts (with `--port 0` appended, or `{port}` filled in) and stops.
        case command(String)
        /// A server someone else runs; the checker cannot restart it.
        case address(ServerAddress)
    }

    public static let usage = "usage: checker --stage N (--server \"CMD\" | --connect HOST:PORT) [--max-frame BYTES] [--only ID[,ID...]] [--list] [--verbose]"

    public var stage: Int
    public var target: Target?
    /// The server's --max-frame: the oversize and max-size frames are made from it.
    public var maxFrame = 1 << 20
    /// Behaviour ids to run (nil = all up to `stage`).
    public var only: [String]? = nil
    public var list = false
    public var verbose = false
    /// How long a started server has to print its ready line. Not a flag: tests shorten it.
    public var readyTimeout: Duration = .seconds(15)

    public init(stage: Int, target: Target?) {
        self.stage = stage
        self.target = target
    }

    /// Parses the arguments after the program name (Flags.swift: `--name value` or `--name=value`).
    /// - Throws: UsageError with a one-line reason for a bad or missing flag.
    public init(arguments: [String]) throws {
        self.init(stage: 0, target: nil)
        let flags = try Flags(arguments.map { $0 == "-v" ? "--verbose" : $0 },
                              valued: ["stage", "server", "connect", "max-frame", "only"], switches: ["list", "verbose"])
        if let word = flags.positionals.first { throw UsageError("unexpected argument '\(word)'; \(CheckerOptions.usage)") }
        list = flags.has("list")
        verbose = flags.has("verbose")
        if let text = flags.string("stage") {
            guard let n = Int(text.hasPrefix("v0.") ? String(text.dropFirst(3)) : text), n >= 1 else {
                throw UsageError("--stage wants a stage number like 2 (or v0.2), not '\(text)'")
            }
            stage = n
        }
        if let command = flags.string("server") { target = .command(command) }
        if let text = flags.string("connect") {
            guard let address = ServerAddress(text) else { throw UsageError("--connect wants IPV4:PORT like 127.0.0.1:7777, not '\(text)'") }
            target = .address(address)
        }
        // The max-size behaviour holds two frames of this size in memory: keep it sane.
        maxFrame = try flags.int("max-frame", default: maxFrame, range: 1...(256 << 20))
        only = flags.string("only")?.split(separator: ",").map(String.init)
        if list { return }
        guard stage >= 1 else { throw UsageError("--stage N is required; \(CheckerOptions.usage)") }
        guard target != nil else { throw UsageError("--server \"CMD\" or --connect HOST:PORT is required") }
        for id in only ?? [] where Ladder.behaviour(id: id) == nil {
            throw UsageError("unknown behaviour '\(id)' (checker --list shows them all)")
        }
        if selected.isEmpty { throw UsageError("--only selects no behaviour of stages 1...\(stage)") }
    }

    /// The behaviours to run: those of stages 1...stage, narrowed by --only.
    public var selected: [Behaviour] {
        Ladder.behaviours(upTo: stage).filter { only?.contains($0.id) ?? true }
    }
}
