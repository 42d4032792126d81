// ServerOptions.swift: the server's command line.
// v0.1: --host, --port.
// v0.2: --max-frame.
// v0.3: --edge-triggered.
// v0.5: --max-connections.
// v0.6: --idle-timeout, --frame-timeout, --write-timeout, --high-water, --low-water, --grace.
// v0.7: --io-threads, --workers, --queue.

public struct ServerOptions {
    public static let usage = "usage: \(programName) [--host ADDR] [--port N] [--max-frame BYTES] [--edge-triggered] [--max-connections N]\n       [--idle-timeout D] [--frame-timeout D] [--write-timeout D] [--high-water SIZE] [--low-water SIZE] [--grace D]\n       [--io-threads N] [--workers N] [--queue N]   (port 0 picks a free port; D: 250ms, 5s, 2m; 0 = off)"

    /// Where to listen. Port 0 asks the kernel for a free port; the ready line says which.
    public var address: SocketAddress
    /// The largest frame payload a client may send; a bigger one is a protocol error.
    public var maxFrame: Int
    /// epoll in edge-triggered mode (EPOLLET) instead of the default level-triggered mode.
    public var edgeTriggered: Bool
    /// How many connections are served at once; the next one gets `busy`. 0: no limit but the fd limit.
    public var maxConnections: Int
    /// Close a connection that sent nothing for this long; one that started a frame and did not finish
    /// it in this long (slowloris); one whose owed output has not moved for this long. .zero: off.
    public var idleTimeout: Duration
    public var frameTimeout: Duration
    public var writeTimeout: Duration
    /// Stop reading a peer we owe this many bytes; read it again once we owe at most `lowWater`.
    public var highWater: Int
    public var lowWater: Int
    /// On SIGINT or SIGTERM: how long to finish what was received and flush it before exiting.
    public var grace: Duration
    /// Event loops serving connections, each on its own thread; the first also accepts (1: v0.6's one loop).
    public var ioThreads: Int
    /// Threads that run the slow requests (msgid 3, 4); 0: they run on the connection's loop.
    public var workers: Int
    /// Slow requests that may wait for a worker; the next one is answered `busy`.
    public var queue: Int

    public init(_ arguments: ArraySlice<String>) throws {
        let flags = try Flags(arguments, valued: ["--host", "--port", "--max-frame", "--max-connections", "--idle-timeout",
                                                    "--frame-timeout", "--write-timeout", "--high-water", "--low-water", "--grace",
                                                    "--io-threads", "--workers", "--queue"], switches: ["--edge-triggered"])
        if let word = flags.words.first { throw UsageError(description: "unexpected argument '\(word)'") }
        address = try flags.address()
        maxFrame = try flags.maxFrame()
        edgeTriggered = flags.has("--edge-triggered")
        maxConnections = try flags.int("--max-connections", default: 0, in: 0...1_000_000)
        idleTimeout = try flags.duration("--idle-timeout", default: .zero)
        frameTimeout = try flags.duration("--frame-timeout", default: .zero)
        writeTimeout = try flags.duration("--write-timeout", default: .zero)
        highWater = try flags.size("--high-water", default: 4 << 20, in: 1...(1 << 30))
        lowWater = try flags.size("--low-water", default: 1 << 20, in: 0...(1 << 30))
        guard lowWater < highWater else {
            throw UsageError(description: "--low-water (\(lowWater)) must be below --high-water (\(highWater))")
        }
        grace = try flags.duration("--grace", default: .seconds(5))
        ioThreads = try flags.int("--io-threads", default: 1, in: 1...256)
        workers = try flags.int("--workers", default: 0, in: 0...256)
        queue = try flags.int("--queue", default: 64, in: 1...1_000_000)
    }

    /// Parses the process's arguments; on a bad flag prints one line and exits 2 (0 for --help).
    public static func parseOrExit() -> ServerOptions {
        parseCommandLineOrExit(usage: usage, ServerOptions.init)
    }
}
