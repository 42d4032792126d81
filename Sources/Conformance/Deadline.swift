// Deadline.swift: a point in time that bounds a wait, turned into poll(2) timeouts.

/// The moment by which something must have happened. Every wait in the checker is bounded by one, so
/// a stalled server costs a few seconds and a FAIL line, never a hung checker.
public struct Deadline: Sendable {
    public let instant: ContinuousClock.Instant
    /// How long it was set for, for messages ("timed out after 5.0 s").
    public let span: Duration

    public static func after(_ duration: Duration) -> Deadline {
        Deadline(instant: ContinuousClock.now + duration, span: duration)
    }

    /// `duration` from now, or `outer` if that comes first: a step's own limit inside a behaviour's.
    public static func after(_ duration: Duration, within outer: Deadline) -> Deadline {
        outer.remaining < duration ? outer : .after(duration)
    }

    public var hasPassed: Bool { ContinuousClock.now >= instant }

    /// Time left, never negative.
    public var remaining: Duration { max(.zero, instant - ContinuousClock.now) }

    /// The time left in whole milliseconds for poll(2), rounded up so that a wait never ends just
    /// before the deadline and spins through a zero timeout, and capped at `cap` if one is given.
    package func pollTimeout(cap: Duration? = nil) -> CInt {
        let wait = min(remaining, cap ?? remaining)
        let (seconds, attoseconds) = wait.components
        let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return CInt(clamping: milliseconds)
    }
}

extension Duration {
    /// `12 ms` or `1.5 s`: how messages show a duration.
    package var readable: String {
        let (whole, atto) = components
        let milliseconds = whole * 1000 + atto / 1_000_000_000_000_000
        if milliseconds < 1000 { return "\(milliseconds) ms" }
        return "\(milliseconds / 1000).\(milliseconds % 1000 / 100) s"
    }
}
