// ClientOptions.swift: the client's command line.
// v0.1: --host, --port, --demo, messages as words.
// v0.2: --max-frame.
// v0.4: --connections: many connections from one event loop.
// v0.5: --stats; --demo is the routing demo (the many-connections one needs --connections).
// v0.6: --pipeline N.

public struct ClientOptions {
    public static let usage = """
        usage: \(programName) [--host ADDR] [--port N] [--max-frame BYTES] [--demo] [MESSAGE...]   (no messages: lines from stdin)
           or: \(programName) [--host ADDR] [--port N] [--max-frame BYTES] --connections N   (N connections from one thread)
           or: \(programName) [--host ADDR] [--port N] --stats   (the server's counters)
           or: \(programName) [--host ADDR] [--port N] --pipeline N   (N frames at once, then replies until the server stops)
        """

    public var address: SocketAddress
    /// Send the scripted messages `make stage` shows instead of the ones given.
    public var demo: Bool
    public var messages: [String]
    /// The largest echo this client accepts (the server's --max-frame, normally).
    public var maxFrame: Int
    /// How many connections the event-loop demo opens; nil: the blocking conversation, or the demo.
    public var connections: Int?
    /// Ask for the server's stats (msgid 2) and print them.
    public var stats: Bool
    /// Send this many frames at once, then read replies until the server ends the connection.
    public var pipeline: Int?

    public init(_ arguments: ArraySlice<String>) throws {
        let flags = try Flags(arguments, valued: ["--host", "--port", "--max-frame", "--connections", "--pipeline"], switches: ["--demo", "--stats"])
        address = try flags.address()
        demo = flags.has("--demo")
        messages = flags.words
        maxFrame = try flags.maxFrame()
        stats = flags.has("--stats")
        if flags.string("--pipeline", default: "") != "" { pipeline = try flags.int("--pipeline", default: 1, in: 1...100_000) }
        if flags.string("--connections", default: "") != "" {
            connections = try flags.int("--connections", default: 20, in: 1...10_000)
        }
    }

    /// Parses the process's arguments; on a bad flag prints one line and exits 2 (0 for --help).
    public static func parseOrExit() -> ClientOptions {
        parseCommandLineOrExit(usage: usage, ClientOptions.init)
    }
}
