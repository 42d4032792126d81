// LoopTasksTests.swift: tasks handed to a loop from other threads: each wakes the loop once, none lost.
import Dispatch
import Synchronization
import Testing
@testable import Net_v0_6

/// A count that tasks on other threads may add to (Atomic: ThreadSanitizer sees it).
private final class Count: Sendable {
    let value = Atomic<Int>(0)
    func add() { value.add(1, ordering: .relaxed) }
    var current: Int { value.load(ordering: .relaxed) }
}

@Suite struct LoopTasksTests {
    @Test("a task from another thread wakes an idle loop")
    func wakesIdleLoop() throws {
        let loop = try EventLoop()
        let count = Count()
        let tasks = loop.tasks
        DispatchQueue.global().async { tasks.execute { _ in count.add() } }
        for _ in 0..<20 where count.current == 0 { loop.runOnce(timeout: 500) }   // idle: only the eventfd can wake it
        #expect(count.current == 1)
    }

    @Test("wakeups before the loop runs coalesce: one eventfd write, one read, every task run")
    func wakeupsCoalesce() throws {
        let loop = try EventLoop()
        let count = Count()
        for _ in 0..<100 { loop.tasks.execute { _ in count.add() } }
        #expect(loop.tasks.wakeups == 1)
        loop.runOnce(timeout: 1000)
        #expect(count.current == 100)
        loop.tasks.execute { _ in count.add() }                   // the next one wakes it again
        #expect(loop.tasks.wakeups == 2)
    }

    @Test("tasks queued while the loop is stopping still run; once the loop is gone they are refused")
    func notLostWhileStopping() throws {
        var loop: EventLoop? = try EventLoop()
        let tasks = loop!.tasks
        let count = Count()
        tasks.execute { loop in
            loop.stop()
            tasks.execute { _ in count.add() }                     // queued while stopping: runs before run() returns
        }
        loop!.run()
        #expect(count.current == 1)
        loop = nil
        #expect(!tasks.execute { _ in count.add() })              // refused, and the caller knows
        #expect(count.current == 1)
    }
}
