// TimerQueue.swift: a loop's timers, earliest first: run after, run every, cancel.
// v0.6: new: replaces v0.4's list in EventLoop; EventLoop drives it with one timerfd.

/// Names one timer, for `cancel`. Never reused within a queue.
public struct TimerID: Hashable, Sendable {
    let sequence: UInt64
}

/// The timers of one loop, in a binary heap ordered by deadline (then by the order they were added,
/// so that timers due at the same instant run in that order). It keeps no time of its own: `now` is
/// read through the clock it was given, ContinuousClock's in the loop and a hand-moved one in tests,
/// and the loop arms its timerfd at `nextDeadline`.
///
/// Loop thread only (the loop's methods that call it assert that).
final class TimerQueue {
    typealias Instant = ContinuousClock.Instant

    private struct Entry {
        var deadline: Instant
        let sequence: UInt64
        /// For a repeating timer: the next deadline is this one plus `period`.
        let period: Duration?
        let action: () -> Void
    }

    private var heap: [Entry] = []
    /// The timers not yet cancelled (a repeating one stays until cancelled). Cancel removes the id here
    /// only: the entry is skipped when its turn comes. That is what makes a timer cancelled by another
    /// timer of the same batch never run (muduo#668: it had collected the due timers before running
    /// them, and ran the cancelled one anyway).
    private var live: Set<UInt64> = []
    private var nextSequence: UInt64 = 1
    let now: () -> Instant

    /// Timers run so far, and how late the last one and the latest one ran after their deadline (the
    /// loop's lag: a loop busy elsewhere runs its timers late). For stats.
    private(set) var fired = 0
    private(set) var lastLag: Duration = .zero
    private(set) var maxLag: Duration = .zero

    init(now: @escaping () -> Instant = { ContinuousClock.now }) {
        self.now = now
    }

    /// Timers waiting (repeating ones included) and not cancelled.
    var count: Int { live.count }

    /// When the earliest timer is due; nil if none waits. (A cancelled one may still be at the top of the
    /// heap: the loop then wakes for nothing once, and `runDue` drops it.)
    var nextDeadline: Instant? { heap.first?.deadline }

    /// Adds a timer due at `deadline`, repeating every `period` if given.
    @discardableResult
    func add(at deadline: Instant, every period: Duration? = nil, _ action: @escaping () -> Void) -> TimerID {
        precondition(period.map { $0 > .zero } ?? true, "a repeating timer needs a period above zero")
        let sequence = nextSequence
        nextSequence += 1
        live.insert(sequence)
        push(Entry(deadline: deadline, sequence: sequence, period: period, action: action))
        return TimerID(sequence: sequence)
    }

    /// The timer will not run (again). Cancelling one that has run, or was cancelled, does nothing.
    func cancel(_ id: TimerID) {
        live.remove(id.sequence)
    }

    /// Runs every timer due by now, earliest first, and returns how many ran. A timer may add and cancel
    /// timers, itself included. One it adds that is already due by the `now` this call read runs in the
    /// same call (on the loop's clock, which has moved on, a zero delay runs at the next wakeup); one
    /// repeating is put back at its scheduled deadline plus its period.
    /// PITFALL: the next deadline of a repeating timer is counted from when it was due, not from when
    /// it ran: counted from when it ran, every late run (a busy loop, a slow callback) moves the whole
    /// schedule later for good, and a 1-second timer drifts by its lag each second.
    /// Guarded by: Tests/v0.N/TimerQueueTests.swift "a repeating timer keeps its schedule when it runs late".
    @discardableResult
    func runDue() -> Int {
        let now = self.now()
        var ran = 0
        while let first = heap.first, first.deadline <= now {
            let entry = pop()
            // PITFALL: a timer cancelled since it was added, possibly by a timer that ran just before
            // it in this same call, must not run: look it up now, not when the batch was collected.
            // Guarded by: Tests/v0.N/TimerQueueTests.swift "a timer cancelled by an earlier timer of the same batch never runs".
            guard live.contains(entry.sequence) else { continue }
            if let period = entry.period {
                var next = entry.deadline + period
                while next <= now { next += period }       // missed whole periods are skipped, not run in a burst
                push(Entry(deadline: next, sequence: entry.sequence, period: period, action: entry.action))
            } else {
                live.remove(entry.sequence)
            }
            lastLag = now - entry.deadline
            maxLag = max(maxLag, lastLag)
            fired += 1
            ran += 1
            entry.action()
        }
        return ran
    }

    // MARK: the binary heap (earliest deadline at index 0; ties by sequence)

    private func isEarlier(_ a: Entry, _ b: Entry) -> Bool {
        a.deadline < b.deadline || (a.deadline == b.deadline && a.sequence < b.sequence)
    }

    private func push(_ entry: Entry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard isEarlier(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private func pop() -> Entry {
        let top = heap[0]
        let last = heap.removeLast()
        guard !heap.isEmpty else { return top }
        heap[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var earliest = parent
            if left < heap.count && isEarlier(heap[left], heap[earliest]) { earliest = left }
            if right < heap.count && isEarlier(heap[right], heap[earliest]) { earliest = right }
            guard earliest != parent else { return top }
            heap.swapAt(parent, earliest)
            parent = earliest
        }
    }
}

/// The loop's timerfd: armed for the queue's earliest deadline, and, when it fires, the handler that
/// runs the due timers. One fd for all timers, so the loop waits for time like it waits for sockets
/// (muduo's TimerQueue), and epoll_wait needs no timeout of its own. Owns the fd (closed in deinit).
/// Loop thread only.
final class TimerFD: EventHandler {
    let fd: CInt
    private unowned let loop: EventLoop
    /// The deadline the timerfd is armed for now; nil if disarmed (or it has fired).
    private var armed: ContinuousClock.Instant?

    init(loop: EventLoop) throws {
        fd = try sysTimerFDCreate()
        self.loop = loop
    }

    deinit { sysClose(fd) }

    /// Arms the timerfd for the earliest deadline, if that is not what it is armed for already: adding
    /// a timer that is not the earliest costs no system call.
    func rearm() {
        let next = loop.timers.nextDeadline
        guard next != armed else { return }
        do {
            try sysTimerFDArm(fd, after: next.map { $0 - loop.timers.now() })
        } catch {
            preconditionFailure("\(error)")            // EINVAL, EBADF: a bug of ours, not an event
        }
        armed = next
    }

    override func handleEvent(_ events: UInt32) {
        _ = try? sysReadCounter(fd)                     // how many expirations: one batch whatever it says
        armed = nil
        loop.timers.runDue()
        rearm()
    }
}
