// ClientOptions.swift: the client's command line.
// v0.1: --host, --port, --demo, messages as words.
// v0.2: --max-frame.

public struct ClientOptions {
    public static let usage = "usage: \(programName) [--host ADDR] [--port N] [--max-frame BYTES] [--demo] [MESSAGE...]   (no messages: lines from stdin)"

    public var address: SocketAddress
    /// Send the scripted messages `make stage` shows instead of the ones given.
    public var demo: Bool
    public var messages: [String]
    /// The largest echo this client accepts (the server's --max-frame, normally).
    public var maxFrame: Int

    public init(_ arguments: ArraySlice<String>) throws {
        let flags = try Flags(arguments, valued: ["--host", "--port", "--max-frame"], switches: ["--demo"])
        address = try flags.address()
        demo = flags.has("--demo")
        messages = flags.words
        maxFrame = try flags.maxFrame()
    }

    /// Parses the process's arguments; on a bad flag prints one line and exits 2 (0 for --help).
    public static func parseOrExit() -> ClientOptions {
        parseCommandLineOrExit(usage: usage, ClientOptions.init)
    }
}
