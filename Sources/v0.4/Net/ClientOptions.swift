// ClientOptions.swift: the client's command line.
// v0.1: --host, --port, --demo, messages as words.
// v0.2: --max-frame.
// v0.4: load generation: --connections, --pipeline, --size, --requests, --duration.

public struct ClientOptions {
    public static let usage = """
        usage: \(programName) [--host ADDR] [--port N] [--max-frame BYTES] [--demo] [MESSAGE...]   (no messages: lines from stdin)
           or: \(programName) [--host ADDR] [--port N] --connections C [--pipeline P] [--size BYTES] [--requests N | --duration SECONDS]
        """

    public var address: SocketAddress
    /// Send the scripted messages `make stage` shows instead of the ones given.
    public var demo: Bool
    public var messages: [String]
    /// The largest echo this client accepts (the server's --max-frame, normally).
    public var maxFrame: Int
    /// Set when any load flag is given: run the load generator instead of a conversation.
    public var load: LoadPlan?

    /// Any of these turns the program into the load generator.
    static let loadFlags = ["--connections", "--pipeline", "--size", "--requests", "--duration"]

    public init(_ arguments: ArraySlice<String>) throws {
        let flags = try Flags(arguments, valued: Set(["--host", "--port", "--max-frame"] + ClientOptions.loadFlags), switches: ["--demo"])
        address = try flags.address()
        demo = flags.has("--demo")
        messages = flags.words
        maxFrame = try flags.maxFrame()
        if ClientOptions.loadFlags.contains(where: { flags.string($0, default: "") != "" }) {
            var plan = LoadPlan()
            plan.connections = try flags.int("--connections", default: 1, in: 1...20_000)
            plan.pipeline = try flags.int("--pipeline", default: 1, in: 1...1024)
            plan.payloadSize = try flags.int("--size", default: 64, in: 0...maxFrame)
            plan.requests = try flags.int("--requests", default: 1000, in: 1...100_000_000)
            let seconds = try flags.int("--duration", default: 0, in: 0...3600)
            if seconds > 0 && flags.string("--requests", default: "") != "" {
                throw UsageError(description: "--requests and --duration exclude each other")
            }
            if seconds > 0 {
                plan.duration = .seconds(seconds)
                plan.requests = nil
            }
            load = plan
        }
    }

    /// Parses the process's arguments; on a bad flag prints one line and exits 2 (0 for --help).
    public static func parseOrExit() -> ClientOptions {
        parseCommandLineOrExit(usage: usage, ClientOptions.init)
    }
}
