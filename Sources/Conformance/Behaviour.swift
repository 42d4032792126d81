// Behaviour.swift: one rung of the ladder: a claim about a server, checked over the wire.

/// One behaviour a server must have from stage `stage` on, and the function that checks it.
///
/// Adding one is two steps: write a small function `(BehaviourContext) throws -> Void` in the file
/// of the stage that first needs it (`StageNBehaviours.swift`), and add an entry for it to that
/// file's list. The function throws a CheckFailure saying what it expected and what came instead.
public struct Behaviour: Sendable {
    /// Short kebab-case name, for `--only` and test names: `frame-oversize`.
    public let id: String
    /// The first stage that must pass it; every later stage must pass it too.
    public let stage: Int
    /// One line, for the report: "a zero-length frame is echoed".
    public let summary: String
    /// True if the server may not be fit to serve afterwards, even if it passed (oversized frames,
    /// garbage, resets): the runner starts a fresh server for the next behaviour.
    public let damaging: Bool
    /// How long the whole check may take; every wait inside it ends by then.
    public let timeout: Duration
    /// What the check needs beyond a TCP address; anything more than `.wire` is skipped under --connect.
    public let needs: ServerNeeds
    /// True if the check ends the server on purpose (a signal): its exit is then the check's to judge
    /// (`BehaviourContext.awaitServerExit`), not a failure of its own.
    public let endsServer: Bool
    let check: @Sendable (BehaviourContext) throws -> Void

    init(_ id: String, stage: Int, _ summary: String, damaging: Bool = false, needs: ServerNeeds = .wire,
         endsServer: Bool = false, timeout: Duration = .seconds(5), check: @escaping @Sendable (BehaviourContext) throws -> Void) {
        self.endsServer = endsServer
        self.id = id
        self.stage = stage
        self.summary = summary
        self.damaging = damaging
        self.needs = needs
        self.timeout = timeout
        self.check = check
    }
}

/// What a behaviour needs of the server besides its address.
public enum ServerNeeds: Equatable, Sendable {
    /// Only the wire: it runs against any server, including one given with --connect.
    case wire
    /// The server's pid, to read /proc/PID (fds, CPU time, memory): only a server the checker started.
    case pid
    /// A server of its own, started under `ulimit -n N` (and its pid): the runner starts it for this
    /// behaviour alone and stops it afterwards, so the shared server keeps its normal limit.
    case fdLimit(Int)
    /// A server of its own, started with these flags after the command (the wire contract's flag for
    /// the setting the behaviour checks: `--max-connections 3`), and stopped afterwards.
    case flags(String)
}

/// A behaviour did not hold: `message` says what was expected and what came instead.
public struct CheckFailure: Error, CustomStringConvertible, Sendable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
