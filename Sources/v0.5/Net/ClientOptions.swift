// ClientOptions.swift: the client's command line.
// v0.1: --host, --port, --demo, messages as words.
// v0.2: --max-frame.
// v0.4: --connections: many connections from one event loop.

public struct ClientOptions {
    public static let usage = """
        usage: \(programName) [--host ADDR] [--port N] [--max-frame BYTES] [--demo] [MESSAGE...]   (no messages: lines from stdin)
           or: \(programName) [--host ADDR] [--port N] [--max-frame BYTES] --connections N   (N connections from one thread)
        """

    public var address: SocketAddress
    /// Send the scripted messages `make stage` shows instead of the ones given.
    public var demo: Bool
    public var messages: [String]
    /// The largest echo this client accepts (the server's --max-frame, normally).
    public var maxFrame: Int
    /// How many connections the event-loop demo opens (`--demo` alone: 20); nil: the blocking conversation.
    public var connections: Int?

    public init(_ arguments: ArraySlice<String>) throws {
        let flags = try Flags(arguments, valued: ["--host", "--port", "--max-frame", "--connections"], switches: ["--demo"])
        address = try flags.address()
        demo = flags.has("--demo")
        messages = flags.words
        maxFrame = try flags.maxFrame()
        if demo || flags.string("--connections", default: "") != "" {
            connections = try flags.int("--connections", default: 20, in: 1...10_000)
        }
    }

    /// Parses the process's arguments; on a bad flag prints one line and exits 2 (0 for --help).
    public static func parseOrExit() -> ClientOptions {
        parseCommandLineOrExit(usage: usage, ClientOptions.init)
    }
}
