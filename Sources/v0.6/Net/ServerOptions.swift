// ServerOptions.swift: the server's command line.
// v0.1: --host, --port.
// v0.2: --max-frame.
// v0.3: --edge-triggered.
// v0.5: --max-connections.

public struct ServerOptions {
    public static let usage = "usage: \(programName) [--host ADDR] [--port N] [--max-frame BYTES] [--edge-triggered] [--max-connections N]   (port 0 picks a free port)"

    /// Where to listen. Port 0 asks the kernel for a free port; the ready line says which.
    public var address: SocketAddress
    /// The largest frame payload a client may send; a bigger one is a protocol error.
    public var maxFrame: Int
    /// epoll in edge-triggered mode (EPOLLET) instead of the default level-triggered mode.
    public var edgeTriggered: Bool
    /// How many connections are served at once; the next one gets `busy`. 0: no limit but the fd limit.
    public var maxConnections: Int

    public init(_ arguments: ArraySlice<String>) throws {
        let flags = try Flags(arguments, valued: ["--host", "--port", "--max-frame", "--max-connections"], switches: ["--edge-triggered"])
        if let word = flags.words.first { throw UsageError(description: "unexpected argument '\(word)'") }
        address = try flags.address()
        maxFrame = try flags.maxFrame()
        edgeTriggered = flags.has("--edge-triggered")
        maxConnections = try flags.int("--max-connections", default: 0, in: 0...1_000_000)
    }

    /// Parses the process's arguments; on a bad flag prints one line and exits 2 (0 for --help).
    public static func parseOrExit() -> ServerOptions {
        parseCommandLineOrExit(usage: usage, ServerOptions.init)
    }
}
