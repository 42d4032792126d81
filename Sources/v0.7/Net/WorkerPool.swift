// WorkerPool.swift: threads that run the handlers too slow for an event loop, from a bounded queue.
// v0.7: new.
import Synchronization

/// M worker threads and one queue of jobs, shared by every event loop (the server's --workers and
/// --queue). A loop never waits for a worker: `submit` queues a job, or says at once that the queue is
/// full. A worker takes the oldest job, runs it, and takes the next. What a job produces goes back to
/// its connection's loop through that loop's task queue (EchoServer.answerSlow, deliver), never from
/// here to a socket: a connection is touched by its own loop's thread only.
///
///     loop 0 ─┐                      ┌─► worker 1 ─► result ─► loop k's tasks.execute ─► its connection
///     loop 1 ─┼─► submit ─► [queue] ─┤
///     loop k ─┘   (full: false,      └─► worker 2 ─► ...
///                  the caller answers `busy`)
///
/// `@unchecked Sendable`: `jobs` and `stopping` are read and written with `lock` held only; the
/// counters are Atomics; the threads list is written in init and read in stop(), on the thread that
/// owns the pool.
public final class WorkerPool: @unchecked Sendable {
    public typealias Job = @Sendable () -> Void

    /// How many jobs may wait for a worker; one more is refused (--queue).
    public let capacity: Int
    /// How many worker threads run jobs (--workers).
    public let threadCount: Int
    private let lock = Lock()
    private let jobArrived = Condition()
    /// The waiting jobs, oldest first: a ring of `capacity` slots, `head` the oldest, `count` of them.
    private var jobs: [Job?]
    private var head = 0, count = 0
    private var stopping = false
    private var threads: [Thread] = []
    /// Jobs running now; taken and finished (a job that found its connection gone, and did nothing,
    /// included); refused because the queue was full.
    public let running = Atomic<Int>(0)
    public let done = Atomic<Int>(0)
    public let refused = Atomic<Int>(0)

    /// Starts `threads` workers (at least 1).
    public init(threads: Int, capacity: Int) {
        precondition(threads > 0 && capacity > 0)
        self.capacity = capacity
        threadCount = threads
        jobs = [Job?](repeating: nil, count: capacity)
        for _ in 0..<threads {
            self.threads.append(Thread.start { [self] in work() })
        }
    }

    /// Queues `job` for a worker and returns true; or, if `capacity` jobs are already waiting, queues
    /// nothing and returns false at once. Any thread.
    /// PITFALL: an unbounded queue never says no: a client that sends slow requests faster than the
    /// workers finish them grows it without limit, and every request behind them waits longer and
    /// longer. Bounded, the request that finds it full is answered `busy` at once, and the client
    /// knows to back off.
    /// Guarded by: Tests/v0.N/WorkerPoolTests.swift "a full queue refuses the next job at once".
    public func submit(_ job: @escaping Job) -> Bool {
        let queued = lock.withLock {
            guard count < capacity, !stopping else { return false }
            jobs[(head + count) % jobs.count] = job
            count += 1
            return true
        }
        if queued { jobArrived.signal() } else { refused.add(1, ordering: .relaxed) }
        return queued
    }

    /// Jobs waiting for a worker now.
    public var queued: Int { lock.withLock { count } }

    /// Lets the workers finish the jobs queued, then waits for them to end. Called once.
    public func stop() {
        lock.withLock { stopping = true }
        jobArrived.broadcast()
        for thread in threads { thread.join() }
        threads = []
    }

    /// A worker's life: take the oldest job (waiting while there is none), run it without the lock
    /// held, again; until stop() and the queue is empty.
    private func work() {
        while true {
            let job: Job? = lock.withLock {
                while count == 0 && !stopping { jobArrived.wait(lock) }
                guard count > 0 else { return nil }       // stopping, and nothing left
                defer {
                    jobs[head] = nil
                    head = (head + 1) % jobs.count
                    count -= 1
                }
                return jobs[head]
            }
            guard let job else { return }
            running.add(1, ordering: .relaxed)
            job()
            running.subtract(1, ordering: .relaxed)
            done.add(1, ordering: .relaxed)
        }
    }
}
