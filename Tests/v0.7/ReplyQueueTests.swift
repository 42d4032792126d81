// ReplyQueueTests.swift: replies leave in request order, whatever order their results come in.
@testable import Net_v0_7
import Testing

@Suite struct ReplyQueueTests {
    @Test("replies leave in ticket order; a ready reply waits for the ones before it")
    func order() {
        let queue = ReplyQueue()
        var sent: [String] = []
        func send(_ bytes: UnsafeRawBufferPointer) { sent.append(String(decoding: bytes, as: UTF8.self)) }
        let first = queue.reserve(), second = queue.reserve()
        Array("echo".utf8).withUnsafeBytes { queue.append($0) }
        let third = queue.reserve()
        #expect(queue.count == 4)
        queue.fill(third, with: Array("third".utf8), send: send)
        queue.fill(second, with: Array("second".utf8), send: send)
        #expect(sent.isEmpty, "sent before the first reply was there: \(sent)")
        queue.fill(first, with: Array("first".utf8), send: send)
        #expect(sent == ["first", "second", "echo", "third"] && queue.isEmpty)
    }

    @Test("a queue that never empties does not grow with the replies it has sent")
    func compacts() {
        let queue = ReplyQueue()
        var pending = queue.reserve()
        var sent = 0
        for round in 0..<10_000 {
            let next = queue.reserve()                  // one more in flight before the last is filled
            queue.fill(pending, with: [UInt8(truncatingIfNeeded: round)]) { _ in sent += 1 }
            pending = next
            #expect(queue.count == 1)
        }
        #expect(sent == 10_000 && queue.storedEntries <= 32, "\(queue.storedEntries) entries kept for 1 reply owed")
    }
}
