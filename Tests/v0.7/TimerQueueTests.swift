// TimerQueueTests.swift: the timer queue on a clock the test moves by hand (no sleeps), and once on
// the real timerfd.
import Testing
@testable import Net_v0_7

/// A clock that moves only when the test says so.
private final class HandClock {
    var now = ContinuousClock.now
    func advance(_ by: Duration) { now += by }
}

@Suite struct TimerQueueTests {
    @Test("timers run in deadline order, those due at the same time in the order they were added")
    func order() {
        let clock = HandClock()
        let queue = TimerQueue(now: { clock.now })
        var ran: [String] = []
        let start = clock.now
        queue.add(at: start + .milliseconds(30)) { ran.append("c") }
        queue.add(at: start + .milliseconds(10)) { ran.append("a") }
        queue.add(at: start + .milliseconds(20)) { ran.append("b1") }
        queue.add(at: start + .milliseconds(20)) { ran.append("b2") }
        clock.advance(.milliseconds(19))
        #expect(queue.runDue() == 1 && ran == ["a"])
        clock.advance(.milliseconds(20))
        #expect(queue.runDue() == 3 && ran == ["a", "b1", "b2", "c"])
        #expect(queue.count == 0 && queue.nextDeadline == nil)
    }

    @Test("a timer cancelled by an earlier timer of the same batch never runs")
    func cancelledInSameBatch() {
        let clock = HandClock()
        let queue = TimerQueue(now: { clock.now })
        var ran: [String] = []
        var victim: TimerID?
        queue.add(at: clock.now + .milliseconds(1)) {
            ran.append("first")
            queue.cancel(victim!)
        }
        victim = queue.add(at: clock.now + .milliseconds(2)) { ran.append("victim") }
        clock.advance(.milliseconds(5))                       // both due: one batch
        queue.runDue()
        #expect(ran == ["first"])
    }

    @Test("a repeating timer keeps its schedule when it runs late")
    func repeatingKeepsSchedule() {
        let clock = HandClock()
        let queue = TimerQueue(now: { clock.now })
        let start = clock.now
        var runs = 0
        queue.add(at: start + .milliseconds(10), every: .milliseconds(10)) { runs += 1 }
        clock.advance(.milliseconds(13))                      // 3 ms late
        queue.runDue()
        #expect(runs == 1 && queue.nextDeadline == start + .milliseconds(20))   // not 23
        clock.advance(.milliseconds(7))                       // exactly at 20
        queue.runDue()
        #expect(runs == 2 && queue.nextDeadline == start + .milliseconds(30))
        clock.advance(.milliseconds(35))                      // at 55: 30, 40 and 50 missed
        queue.runDue()
        #expect(runs == 3 && queue.nextDeadline == start + .milliseconds(60))   // once, then back on schedule
        #expect(queue.maxLag == .milliseconds(25))
    }

    @Test("a callback may add timers, and cancel its own repeating timer")
    func callbacksAddAndCancel() {
        let clock = HandClock()
        let queue = TimerQueue(now: { clock.now })
        var ran: [String] = []
        var repeating: TimerID?
        repeating = queue.add(at: clock.now + .milliseconds(1), every: .milliseconds(1)) {
            ran.append("repeating")
            queue.add(at: clock.now) { ran.append("added, due now") }    // runs in this same call
            queue.cancel(repeating!)
        }
        clock.advance(.milliseconds(1))
        #expect(queue.runDue() == 2)
        clock.advance(.milliseconds(10))
        #expect(queue.runDue() == 0)
        #expect(ran == ["repeating", "added, due now"] && queue.count == 0)
    }

    @Test("the loop's timerfd wakes it when a timer is due")
    func realTimerFD() throws {
        let loop = try EventLoop()
        var ran = false
        let started = ContinuousClock.now
        loop.runAfter(.milliseconds(20)) { ran = true }
        for _ in 0..<20 where !ran { loop.runOnce(timeout: 1000) }       // no timeout needed: the timerfd wakes it
        #expect(ran)
        #expect(ContinuousClock.now - started >= .milliseconds(20))
    }
}
