// ReplyCheckTests.swift: the load generator accepts exactly the echo of its request, however the
// reply is split, and counts anything else as a wrong reply.
@testable import Benchmark
import Glibc
import Testing

@Suite struct ReplyCheckTests {
    /// A connection (on an fd it never uses: nothing here sends or reads) with `sent` requests in
    /// flight, and the bytes those requests were.
    func connectionWithRequests(_ sent: Int, payloadSize: Int, pipeline: Int = 4) throws -> (LoadConnection, FrameTemplate, [UInt8]) {
        let fd = socket(AF_UNIX, CInt(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        try #require(fd >= 0)
        let connection = LoadConnection(fd: fd, index: 3, pipeline: pipeline)
        var frame = FrameTemplate(payloadSize: payloadSize)
        var wire: [UInt8] = []
        for _ in 0..<sent {
            connection.budget = 1
            // The socket has no peer: send fails, but the request is started (stamped, timed) first.
            _ = try? connection.send(frame: &frame, pipeline: pipeline, now: 0)
            frame.stamp(connection.nextSendStamp - 1)
            wire += frame.bytes
        }
        try #require(connection.inFlight == sent)
        return (connection, frame, wire)
    }

    func feed(_ connection: LoadConnection, _ frame: FrameTemplate, _ bytes: [UInt8], pieces: Int) throws -> Int {
        var replies = 0
        let size = max(1, (bytes.count + pieces - 1) / pieces)
        for start in stride(from: 0, to: bytes.count, by: size) {
            let piece = Array(bytes[start..<min(bytes.count, start + size)])
            try piece.withUnsafeBytes { try connection.receive($0, frame: frame, pipeline: 4, now: 1) { _ in replies += 1 } }
        }
        return replies
    }

    @Test("the exact echo of two requests is two replies, in one read or split anywhere", arguments: [0, 5, 64])
    func exactEcho(payloadSize: Int) throws {
        for pieces in [1, 2, 3, 7, 2 * (8 + payloadSize)] {
            let (connection, frame, wire) = try connectionWithRequests(2, payloadSize: payloadSize)
            defer { connection.close() }
            #expect(try feed(connection, frame, wire, pieces: pieces) == 2)
            #expect(connection.inFlight == 0)
        }
    }

    @Test("a changed byte anywhere in the reply is a wrong reply")
    func changedByte() throws {
        for position in 0..<(2 * 72) {
            let (connection, frame, wire) = try connectionWithRequests(2, payloadSize: 64)
            defer { connection.close() }
            var bad = wire
            bad[position] ^= 0x40
            #expect(throws: LoadError.self, "byte \(position)") { _ = try feed(connection, frame, bad, pieces: 3) }
        }
    }

    @Test("replies in the wrong order, or one request answered twice, are wrong replies")
    func orderAndDuplicates() throws {
        let (connection, frame, wire) = try connectionWithRequests(2, payloadSize: 16)
        defer { connection.close() }
        let first = Array(wire[..<24]), second = Array(wire[24...])
        #expect(throws: LoadError.self) { _ = try feed(connection, frame, second + first, pieces: 1) }

        let (again, frame2, wire2) = try connectionWithRequests(2, payloadSize: 16)
        defer { again.close() }
        #expect(throws: LoadError.self) { _ = try feed(again, frame2, Array(wire2[..<24]) + Array(wire2[..<24]), pieces: 1) }
    }

    @Test("bytes beyond the requests in flight are wrong")
    func unaskedBytes() throws {
        let (connection, frame, wire) = try connectionWithRequests(1, payloadSize: 8)
        defer { connection.close() }
        #expect(throws: LoadError.self) { _ = try feed(connection, frame, wire + [0], pieces: 1) }
    }

    @Test("the request is a frame of msgid 1 whose header gives the payload length")
    func requestFormat() {
        let frame = FrameTemplate(payloadSize: 300)
        #expect(Array(frame.bytes[0..<8]) == [0, 0, 0, 1, 0, 0, 1, 44])
        #expect(frame.bytes.count == 308)
    }
}
