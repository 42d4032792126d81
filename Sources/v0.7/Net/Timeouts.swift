// Timeouts.swift: the server's three per-connection deadlines, and the coarse clock they run on.
// v0.6: new.

/// --idle-timeout, --frame-timeout and --write-timeout. Each is off at `.zero`.
///
/// No timer per connection: each connection keeps three stamps of the loop's coarse clock
/// (`EventLoop.tick`), written where they change (a read, a frame left unfinished, output that moved),
/// and one timer per server, the sweep, advances the clock every `tick` and closes the connections
/// whose deadline has passed (Redis's clientsCron works this way). A read costs one stamp, no clock
/// read and no timer update; a deadline is met within one tick; the sweep costs a look at every
/// connection each tick.
public struct Timeouts: Sendable, Equatable {
    public var idle: Duration
    public var frame: Duration
    public var write: Duration

    public init(idle: Duration = .zero, frame: Duration = .zero, write: Duration = .zero) {
        self.idle = idle
        self.frame = frame
        self.write = write
    }

    public static let off = Timeouts()

    var isOff: Bool { self == .off }

    /// The sweep's period: a quarter of the shortest timeout that is on, from 10 ms to 1 s. A
    /// connection is closed between its timeout and its timeout plus one tick.
    var tick: Duration {
        let shortest = [idle, frame, write].filter { $0 > .zero }.min() ?? .seconds(1)
        return min(max(shortest / 4, .milliseconds(10)), .seconds(1))
    }

    /// `timeout` in ticks, rounded up (0: off).
    func ticks(_ timeout: Duration) -> UInt32 {
        guard timeout > .zero else { return 0 }
        return UInt32(clamping: Int((timeout / tick).rounded(.up)))
    }
}

/// Which deadline ended a connection (stats count them: `timeouts_idle`, ...).
enum TimeoutKind: CaseIterable {
    /// Nothing received, and nothing owed either way, for --idle-timeout.
    case idle
    /// A frame started and not finished within --frame-timeout.
    case frame
    /// Output owed and not one byte of it taken by the peer for --write-timeout.
    case write
}
