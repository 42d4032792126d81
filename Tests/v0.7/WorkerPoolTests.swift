// WorkerPoolTests.swift: the worker pool's bounded queue, and its threads.
@testable import Net_v0_7
import Glibc
import Synchronization
import Testing

/// A gate the test opens: jobs wait on it, so the test decides when workers are free.
final class Gate: @unchecked Sendable {            // `open` is touched with `lock` held only
    private let lock = Lock()
    private let opened = Condition()
    private var isOpen = false

    func wait() { lock.withLock { while !isOpen { opened.wait(lock) } } }
    func open() {
        lock.withLock { isOpen = true }
        opened.broadcast()
    }
}

@Suite(.timeLimit(.minutes(5))) struct WorkerPoolTests {
    /// Waits (bounded) until `condition` holds; the pool's threads make it so.
    func eventually(_ condition: () -> Bool) -> Bool {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            if ContinuousClock.now > deadline { return false }
            sched_yield()
        }
        return true
    }

    @Test("a full queue refuses the next job at once")
    func fullQueueRefuses() {
        let pool = WorkerPool(threads: 1, capacity: 2)
        let gate = Gate()
        let ran = Atomic<Int>(0)
        #expect(pool.submit { gate.wait(); ran.add(1, ordering: .relaxed) })
        #expect(eventually { pool.running.load(ordering: .relaxed) == 1 }, "the worker never took the first job")
        #expect(pool.submit { ran.add(1, ordering: .relaxed) })
        #expect(pool.submit { ran.add(1, ordering: .relaxed) })
        // The worker is busy and two jobs wait: the queue is full, and says so without waiting.
        #expect(!pool.submit { ran.add(1, ordering: .relaxed) })
        #expect(pool.queued == 2 && pool.refused.load(ordering: .relaxed) == 1)
        gate.open()
        #expect(eventually { pool.done.load(ordering: .relaxed) == 3 })
        pool.stop()
        #expect(ran.load(ordering: .relaxed) == 3)
    }

    @Test("every job runs once, on a worker thread, and stop() lets the queued ones finish")
    func jobsRunOnceOnWorkers() {
        let pool = WorkerPool(threads: 3, capacity: 1000)
        let caller = UInt(pthread_self())
        let ranHere = Atomic<Int>(0), ran = Atomic<Int>(0)
        for _ in 0..<500 {
            #expect(pool.submit {
                if UInt(pthread_self()) == caller { ranHere.add(1, ordering: .relaxed) }
                ran.add(1, ordering: .relaxed)
            })
        }
        pool.stop()
        #expect(ran.load(ordering: .relaxed) == 500 && ranHere.load(ordering: .relaxed) == 0)
        #expect(!pool.submit {}, "a stopped pool still took a job")
    }
}
