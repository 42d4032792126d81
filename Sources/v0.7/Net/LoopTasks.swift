// LoopTasks.swift: work another thread hands to a loop, and the eventfd that wakes the loop for it.
// v0.6: new.
import Glibc

/// The one part of an EventLoop that other threads may touch: `execute` queues a task and wakes the
/// loop, which runs it on its own thread (muduo's runInLoop/queueInLoop, with its wakeup fd).
///
/// `@unchecked Sendable`: every stored property but `fd` (set once, in init) is read and written with
/// `mutex` held, and the tasks themselves are `@Sendable`. The lock is a pthread mutex, not
/// Synchronization's Mutex: ThreadSanitizer cannot see the futexes that one is built on, and reports
/// false races through it (make sanitize runs the tests under TSan). Owns the eventfd (closed in deinit).
public final class LoopTasks: @unchecked Sendable {
    let fd: CInt
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var queued: [@Sendable (EventLoop) -> Void] = []
    /// True from the write to the eventfd until the loop has taken the queue: the tasks queued
    /// meanwhile need no wakeup of their own.
    private var wakeupPending = false
    /// Set when the loop is gone: tasks are refused from then on.
    private var ended = false
    /// eventfd writes so far (stats, and the test that they coalesce).
    private(set) var wakeups = 0

    init() throws {
        fd = try sysEventFDCreate()
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        sysClose(fd)
    }

    /// Queues `task` to run on the loop's thread, from any thread; it is given the loop there (the loop
    /// itself is not Sendable: only on its own thread may it be used). Returns false, and queues
    /// nothing, if the loop is gone: a task is never dropped without the caller knowing.
    /// PITFALL: queued without a wakeup, a task waits until something else wakes the loop, which for
    /// an idle loop is never. The first task after the loop took the queue writes the eventfd; those
    /// that follow before the loop wakes need not (several wakeups coalesce into one read, muduo#173).
    /// Guarded by: Tests/v0.N/LoopTasksTests.swift "a task from another thread wakes an idle loop".
    @discardableResult
    public func execute(_ task: @escaping @Sendable (EventLoop) -> Void) -> Bool {
        pthread_mutex_lock(mutex)
        guard !ended else {
            pthread_mutex_unlock(mutex)
            return false
        }
        queued.append(task)
        let wake = !wakeupPending
        wakeupPending = true
        if wake { wakeups += 1 }
        pthread_mutex_unlock(mutex)
        if wake { sysWakeEventFD(fd) }
        return true
    }

    /// Runs the queued tasks until none is left, then refuses new ones (execute returns false): what
    /// `run()` does once `stop()` was called, so that a task it accepted is never left unrun.
    func finish(on loop: EventLoop) {
        while true {
            pthread_mutex_lock(mutex)
            if queued.isEmpty { ended = true }
            let ended = self.ended
            pthread_mutex_unlock(mutex)
            if ended { return }
            runQueued(on: loop)
        }
    }

    /// Runs the tasks queued so far, in order, on the loop's thread, and returns how many ran. Tasks
    /// they queue run in the next round, not this one (a task that requeues itself cannot starve the
    /// loop's sockets).
    @discardableResult
    func runQueued(on loop: EventLoop) -> Int {
        _ = try? sysReadCounter(fd)                     // readable no more (0 if nothing was written)
        pthread_mutex_lock(mutex)
        let batch = queued
        queued = []
        wakeupPending = false
        pthread_mutex_unlock(mutex)
        for task in batch { task(loop) }
        return batch.count
    }

    /// The loop is going away: refuse tasks from now on, and say how many were queued too late to run
    /// (after its `run()` had returned).
    func loopEnded() {
        pthread_mutex_lock(mutex)
        ended = true
        let dropped = queued                            // released after the unlock: a task's captures
        queued = []                                     // may run code (a deinit) that calls execute
        pthread_mutex_unlock(mutex)
        if !dropped.isEmpty { log("event loop gone: \(dropped.count) queued tasks not run") }
    }
}

/// The loop's handler for the eventfd: runs the queued tasks. Loop thread only.
final class TasksHandler: EventHandler {
    private unowned let loop: EventLoop

    init(loop: EventLoop) {
        self.loop = loop
    }

    override func handleEvent(_ events: UInt32) {
        loop.tasks.runQueued(on: loop)
    }
}
