// EventLoop.swift: the reactor: one thread waits on epoll and calls the handler of each ready fd.
// v0.3: new: a handler table indexed by fd (handlers called unretained), generation-tagged events,
//       run/runOnce/stop, one raw read buffer; runAfter, a minimal timer list woken by epoll_wait's
//       timeout (the acceptor's back-off).
// v0.5: registeredHandlers, for a server that stops; timers kept in deadline order (a lingering close
//       adds one per closing connection: there may be thousands, and the loop looks at the first only).
// v0.6: timers in a TimerQueue behind one timerfd (runAfter, runEvery, cancel); tasks from any thread
//       (`tasks.execute`) behind one eventfd; a coarse clock (`tick`) for per-connection deadlines.
// v0.7: registration ids (fd and generation), by which a result from another thread finds its
//       connection, or finds it gone.
import CLinux
import Glibc

/// A single-threaded reactor (muduo's EventLoop, Redis's aeEventLoop, the seed's Reactor):
///
///     run() ──► epoll_wait ──► for each ready (fd, generation, bits):
///       ▲                          handlers[fd] still that registration? ── no ──► drop (stale)
///       │                          yes: handler.handleEvent(bits)
///       │                            (the timerfd's handler runs the due timers, the eventfd's the
///       │                             tasks other threads queued: both are handlers like any other)
///       └── let go of the handlers unregistered meanwhile ◄──┘
///
/// Handlers live in an array indexed by fd, like ae's `events[fd]`: no hashing and no allocation per
/// event. Each registration gets a generation number, packed with the fd into epoll's 64-bit user data.
///
/// PITFALL: one epoll_wait can return events for fd 7 and, later in the same array, for fd 9. If the
/// handler of fd 7 closes fd 9 and a new connection is accepted that gets number 9 again, the old
/// event for 9 must not reach the new connection. Its generation no longer matches, so it is dropped.
/// Guarded by: Tests/v0.N/EventLoopTests.swift "a stale event for a reused fd is dropped".
///
/// Owns the epoll fd and, through the table, keeps each registered handler alive until the end of
/// the wakeup in which it is unregistered (see `retired`). Loop thread only: the methods that change or
/// run it assert it.
public final class EventLoop {
    private struct Registration {
        /// The table's own reference: retained once in `register`, released once after the wakeup in
        /// which the handler is unregistered (or in deinit). Unmanaged, so that reading a Registration
        /// out of the table copies two words and retains nothing (a strong reference, read in place so
        /// as not to be retained, cost 1 of 122 instructions per round trip: make bench-instr 3).
        /// nil in an empty slot.
        let handler: Unmanaged<EventHandler>?
        /// 0 in an empty slot, and no registration gets 0: so one comparison with an event's generation
        /// says both "still registered" and "the same registration" (a separate nil test cost 1 of 122
        /// instructions per round trip).
        let generation: UInt32

        static var empty: Registration { Registration(handler: nil, generation: 0) }
    }

    private let epoll: Epoll
    private var handlers: [Registration] = []
    /// Handlers unregistered during this wakeup. The loop calls a handler without retaining it, so the
    /// table's reference is what keeps it alive, also while it runs.
    /// PITFALL: released by unregister, a handler that unregisters itself in its callback would free
    /// itself mid-call. Its reference moves here instead, and is released when the wakeup ends (muduo
    /// defers destruction with queueInLoop for the same reason).
    /// Guarded by: Tests/v0.N/EventLoopTests.swift "a handler that unregisters itself is freed after its callback".
    private var retired: [Unmanaged<EventHandler>] = []
    private var nextGeneration: UInt32 = 1
    private var running = false
    private let thread = pthread_self()
    /// The timers, and the timerfd that wakes the loop when the earliest is due (see TimerFD).
    let timers: TimerQueue
    private var timerFD: TimerFD!
    /// Work other threads hand to this loop, and the eventfd that wakes it for them.
    public let tasks: LoopTasks
    /// A coarse clock: whoever sweeps per-connection deadlines (the server, every few milliseconds)
    /// advances it, and connections stamp it instead of reading the clock on every read (a clock read
    /// per message would cost the echo path; a stamp is one load and one store).
    public var tick: UInt32 = 0
    /// Output water marks for every connection of this loop (the server's --high-water and --low-water):
    /// a connection that owes its peer this much stops reading it, and reads again once it owes no more
    /// than the low mark.
    public var outputHighWater = 4 << 20
    public var outputLowWater = 1 << 20

    /// Every fd registered from now on uses edge-triggered notification (the server's --edge-triggered).
    public let edgeTriggered: Bool
    /// The one read buffer of this loop: a connection reads into it, frames are handled straight out of
    /// it, and only a leftover partial frame is copied into that connection's own buffer. So an idle
    /// connection holds no buffer at all. Raw memory, not an IOBuffer: it is empty again after every
    /// read, so it needs no indices, and a pointer is nothing to retain. A plain pointer, not an
    /// UnsafeMutableRawBufferPointer, whose optional base address every use re-checks: 26 of 147
    /// instructions per round trip (make bench-instr 3). Freed in deinit.
    public let readBuffer = UnsafeMutableRawPointer.allocate(byteCount: EventLoop.readBufferSize, alignment: 16)
    public static let readBufferSize = 64 * 1024
    /// Where connections take buffers while they hold bytes, and give them back when drained.
    public let pool = BufferPool()

    /// `now` is the clock the timers read: ContinuousClock's (CLOCK_BOOTTIME, the timerfd's clock).
    public init(edgeTriggered: Bool = false, now: @escaping () -> ContinuousClock.Instant = { ContinuousClock.now }) throws {
        epoll = try Epoll()
        self.edgeTriggered = edgeTriggered
        timers = TimerQueue(now: now)
        tasks = try LoopTasks()
        timerFD = try TimerFD(loop: self)
        try register(timerFD, fd: timerFD.fd, interest: .readable, counted: false)
        try register(TasksHandler(loop: self), fd: tasks.fd, interest: .readable, counted: false)
    }

    deinit {
        for registration in handlers { registration.handler?.release() }
        for handler in retired { handler.release() }
        readBuffer.deallocate()
        tasks.loopEnded()                             // and tasks queued from now on are refused
    }

    /// How many fds have a handler (the loop's own timerfd and eventfd not counted).
    public private(set) var registeredCount = 0

    /// Starts calling `handler` for events on `fd`. The loop keeps `handler` alive until unregister.
    public func register(_ handler: EventHandler, fd: CInt, interest: Interest) throws {
        try register(handler, fd: fd, interest: interest, counted: true)
    }

    private func register(_ handler: EventHandler, fd: CInt, interest: Interest, counted: Bool) throws {
        assertInLoopThread()
        let index = Int(fd)
        if index >= handlers.count {
            handlers += repeatElement(.empty, count: max(index + 1, handlers.count * 2) - handlers.count)
        }
        precondition(handlers[index].handler == nil, "fd \(fd) registered twice")
        let generation = nextGeneration
        nextGeneration = nextGeneration == .max ? 1 : nextGeneration + 1   // never 0: see Registration
        try epoll.register(fd, interest: withTrigger(interest), token: token(fd, generation))
        handlers[index] = Registration(handler: .passRetained(handler), generation: generation)
        if counted { registeredCount += 1 }
    }

    /// Calls `body` with every registered handler, in fd order, without allocating; `body` may
    /// unregister handlers (their own included) as it goes.
    public func forEachHandler(_ body: (EventHandler) -> Void) {
        var index = 0
        while index < handlers.count {
            if let handler = handlers[index].handler { body(handler.takeUnretainedValue()) }
            index += 1
        }
    }

    /// Every registered handler, in fd order: what a server that stops closes.
    public var registeredHandlers: [EventHandler] {
        handlers.compactMap { $0.handler?.takeUnretainedValue() }
    }

    /// Who is registered on `fd` now: the fd and its registration's generation in one number. A worker
    /// thread carries it with a request, and the result comes back to `handler(registeredAs:)`.
    public func registrationID(of fd: CInt) -> UInt64 {
        assertInLoopThread()
        return token(fd, handlers[Int(fd)].generation)
    }

    /// The handler registered as `id`, if that registration still stands: nil if its fd was
    /// unregistered since, or now belongs to a later registration (the fd number reused by a new
    /// connection), exactly as for a stale event (see the PITFALL above).
    public func handler(registeredAs id: UInt64) -> EventHandler? {
        assertInLoopThread()
        let fd = Int(truncatingIfNeeded: id & 0xFFFF_FFFF)
        guard fd < handlers.count, handlers[fd].generation == UInt32(truncatingIfNeeded: id >> 32) else { return nil }
        return handlers[fd].handler?.takeUnretainedValue()
    }

    /// Changes what `fd` is watched for (for example: writable while output is pending).
    public func modify(fd: CInt, interest: Interest) throws {
        assertInLoopThread()
        let registration = handlers[Int(fd)]
        precondition(registration.handler != nil, "fd \(fd) is not registered")
        try epoll.modify(fd, interest: withTrigger(interest), token: token(fd, registration.generation))
    }

    /// Stops watching `fd`; its handler is let go at the end of this wakeup. Call it before closing
    /// `fd`. Safe inside a handler, also for another fd than its own: events still queued for `fd` in
    /// this wakeup are dropped, because its slot is empty (or holds a newer generation).
    public func unregister(fd: CInt) {
        assertInLoopThread()
        guard Int(fd) < handlers.count, let handler = handlers[Int(fd)].handler else { return }
        // EPOLL_CTL_DEL fails only for our own bugs, which stop the program (sysEpollControl), or for
        // lack of memory, which removing an entry never needs.
        try? epoll.unregister(fd)
        retired.append(handler)
        handlers[Int(fd)] = .empty
        registeredCount -= 1
    }

    /// Dispatches events until `stop()` is called, then runs the tasks still queued, and refuses new
    /// ones from then on (see LoopTasks.finish).
    public func run() {
        assertInLoopThread()
        running = true
        while running {
            runOnce(timeout: -1)
        }
        tasks.finish(on: self)
    }

    /// Waits up to `timeout` ms (-1: no limit) for events, due timers included (the timerfd is one of
    /// the fds), and dispatches them.
    public func runOnce(timeout: CInt) {
        assertInLoopThread()
        let ready: UnsafeMutableBufferPointer<epoll_event>
        do {
            ready = try epoll.wait(timeout: timeout)
        } catch {
            // EBADF, EFAULT, EINVAL: our own bug, not a network event.
            preconditionFailure("\(error)")
        }
        for event in ready {
            let fd = Int(truncatingIfNeeded: event.data.u64 & 0xFFFF_FFFF)
            let generation = UInt32(truncatingIfNeeded: event.data.u64 >> 32)
            // No bounds check: `fd` comes from our own token, and the table never shrinks, so it is in
            // range (debug builds still check it). Checked, it cost 1 of 122 instructions per round trip.
            let registration = handlers.withUnsafeBufferPointer { $0[fd] }
            // A stale event: its fd was unregistered (and maybe reused) earlier in this wakeup.
            guard registration.generation == generation else { continue }
            // Called without a retain: the table's reference keeps it alive (see `retired`). A handler
            // retained for the call costs a retain and a release per event, 52 of 173 instructions per
            // round trip (make bench-instr 3).
            registration.handler.unsafelyUnwrapped._withUnsafeGuaranteedRef { $0.handleEvent(event.events) }
        }
        if !retired.isEmpty {
            for handler in retired { handler.release() }
            retired.removeAll(keepingCapacity: true)
        }
    }

    /// Runs `action` on this loop once `delay` has passed. Loop thread only.
    @discardableResult
    public func runAfter(_ delay: Duration, _ action: @escaping () -> Void) -> TimerID {
        assertInLoopThread()
        defer { timerFD.rearm() }
        return timers.add(at: timers.now() + delay, action)
    }

    /// Runs `action` every `period`, the first time one period from now, until cancelled. Each run is
    /// scheduled from when the previous one was due, not from when it ran (TimerQueue.runDue).
    @discardableResult
    public func runEvery(_ period: Duration, _ action: @escaping () -> Void) -> TimerID {
        assertInLoopThread()
        defer { timerFD.rearm() }
        return timers.add(at: timers.now() + period, every: period, action)
    }

    /// The timer will not run (again), even if it is due in the batch now running.
    public func cancel(_ id: TimerID) {
        assertInLoopThread()
        timers.cancel(id)
    }

    /// Makes `run()` return after the current wakeup.
    public func stop() {
        running = false
    }

    /// Traps in debug builds when called from another thread than the loop's. The threaded stages rely
    /// on this: a loop's state is touched by its own thread only.
    public func assertInLoopThread() {
        assert(pthread_equal(thread, pthread_self()) != 0, "EventLoop used from a thread that is not its own")
    }

    private func withTrigger(_ interest: Interest) -> Interest {
        edgeTriggered ? interest.union(.edgeTriggered) : interest
    }

    private func token(_ fd: CInt, _ generation: UInt32) -> UInt64 {
        UInt64(generation) << 32 | UInt64(UInt32(bitPattern: fd))
    }
}
