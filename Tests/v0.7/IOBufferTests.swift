// IOBufferTests.swift: IOBuffer's indices, compaction and growth, checked against a plain array model.
import Testing
@testable import Net_v0_7

@Suite struct IOBufferTests {
    func bytes(_ count: Int, from start: Int = 0) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: start + $0) }
    }

    func readable(_ buffer: IOBuffer) -> [UInt8] { buffer.withReadableBytes { Array($0) } }

    @Test func appendThenConsume() {
        let buffer = IOBuffer(capacity: 8)
        bytes(5).withUnsafeBytes { buffer.append($0) }
        #expect(buffer.readableCount == 5 && buffer.writableCount == 3)
        buffer.consume(2)
        #expect(readable(buffer) == [2, 3, 4])
        #expect(buffer.readerIndex == 2)
    }

    @Test("consuming everything resets both indices without copying")
    func consumeAllResets() {
        let buffer = IOBuffer(capacity: 8)
        bytes(6).withUnsafeBytes { buffer.append($0) }
        buffer.consume(6)
        #expect(buffer.readerIndex == 0 && buffer.writerIndex == 0 && buffer.isEmpty)
    }

    @Test("reserve compacts before it grows")
    func compactsBeforeGrowing() {
        let buffer = IOBuffer(capacity: 8)
        bytes(8).withUnsafeBytes { buffer.append($0) }
        buffer.consume(5)                       // 3 readable at the end, 5 consumed bytes in front
        bytes(4, from: 100).withUnsafeBytes { buffer.append($0) }   // fits only after compaction
        #expect(buffer.capacity == 8)
        #expect(readable(buffer) == [5, 6, 7, 100, 101, 102, 103])
        #expect(buffer.readerIndex == 0)
    }

    @Test("growth doubles and keeps the content")
    func growthKeepsContent() {
        let buffer = IOBuffer(capacity: 4)
        let data = bytes(1000)
        data.withUnsafeBytes { buffer.append($0) }
        #expect(buffer.capacity == 1024)
        #expect(readable(buffer) == data)
    }

    @Test func bigEndianIntegers() {
        let buffer = IOBuffer(capacity: 4)
        buffer.appendUInt32(0x0102_0304)
        #expect(readable(buffer) == [1, 2, 3, 4])
        #expect(buffer.peekUInt32(at: 0) == 0x0102_0304)
    }

    @Test("append(reserving:) lends the writable part and counts what was written")
    func appendReserving() {
        let buffer = IOBuffer(capacity: 4)
        let written = buffer.append(reserving: 10) { space in
            #expect(space.count >= 10)
            for i in 0..<6 { space[i] = UInt8(i) }
            return 6
        }
        #expect(written == 6)
        #expect(readable(buffer) == bytes(6))
    }

    /// Every boundary of a 16-byte buffer: fill it to `filled`, consume `consumed` of that, then append
    /// `added` bytes. The content must always equal the model, and the buffer must grow only when the
    /// readable bytes plus the new ones do not fit in the capacity.
    @Test("read/write at every boundary", arguments: 0...16)
    func everyBoundary(filled: Int) {
        for consumed in 0...filled {
            for added in 0...20 {
                let buffer = IOBuffer(capacity: 16)
                var model = bytes(filled)
                model.withUnsafeBytes { buffer.append($0) }
                buffer.consume(consumed)
                model.removeFirst(consumed)
                let extra = bytes(added, from: 200)
                extra.withUnsafeBytes { buffer.append($0) }
                model += extra
                #expect(readable(buffer) == model, "filled \(filled) consumed \(consumed) added \(added)")
                let mustGrow = model.count > 16
                #expect((buffer.capacity > 16) == mustGrow, "filled \(filled) consumed \(consumed) added \(added)")
            }
        }
    }
}
