// LoadConnection.swift: one connection of the load generator: its requests in flight, the reply it
// is reading, and the check that every reply is exactly the request it answers.
import Conformance
import Glibc

/// One client connection. Requests are numbered per connection (the stamp); the stamp is written
/// into the first bytes of each request's payload, so a reply that comes back from the wrong request,
/// twice, or with bytes lost or reordered no longer matches the one expected next. Echo servers
/// answer a connection's requests in order, so the next reply always answers the oldest request.
///
/// Owns its fd: `close()` releases it, once.
final class LoadConnection {
    let fd: CInt
    let index: Int
    var isConnected = false
    private(set) var isClosed = false

    /// Requests this connection may still start: `Int.max` during a timed run, a count during a
    /// counted one, 0 once the run is winding down.
    var budget = 0
    /// The stamp of the next request to start, and of the next reply expected: the difference is
    /// the number of requests in flight (started, not yet answered).
    private(set) var nextSendStamp: UInt64
    private(set) var nextReplyStamp: UInt64
    /// Bytes of the request being sent that the kernel has taken; 0 between requests.
    private var sendOffset = 0
    /// Bytes of the expected reply already read and checked.
    private var replyOffset = 0
    /// When each request in flight started, indexed by stamp modulo the pipeline depth.
    private var sendTimes: [UInt64]
    /// True while EPOLLOUT is armed: only while a request did not fit in the socket's send buffer.
    var isWaitingForWritable = false
    /// Replies since the stretch being measured began.
    var repliesInStretch: UInt64 = 0

    init(fd: CInt, index: Int, pipeline: Int) {
        self.fd = fd
        self.index = index
        // Stamps of different connections never meet: the index is in the high bits.
        nextSendStamp = UInt64(index) << 40
        nextReplyStamp = nextSendStamp
        sendTimes = [UInt64](repeating: 0, count: pipeline)
    }

    var inFlight: Int { Int(nextSendStamp - nextReplyStamp) }
    var isIdle: Bool { inFlight == 0 && sendOffset == 0 }

    /// Starts requests while the budget and the pipeline allow, and sends as much of them as the
    /// kernel takes. Returns false if the send buffer filled up (the caller arms EPOLLOUT).
    func send(frame: inout FrameTemplate, pipeline: Int, now: UInt64) throws -> Bool {
        while true {
            if sendOffset == 0 {
                guard budget > 0, inFlight < pipeline else { return true }
                budget -= 1
                sendTimes[Int(nextSendStamp % UInt64(pipeline))] = now
                nextSendStamp += 1
            }
            // The frame in flight is the one stamped nextSendStamp - 1; the template is shared by
            // every connection, so it is stamped again before each send.
            frame.stamp(nextSendStamp - 1)
            // sysSend: MSG_NOSIGNAL, EINTR retried, EAGAIN as nil (Conformance/Syscalls.swift).
            let sent = try frame.bytes.withUnsafeBytes { all in
                try sysSend(fd, UnsafeRawBufferPointer(rebasing: all[sendOffset...]))
            }
            guard let sent else { return false }
            sendOffset += sent
            if sendOffset == frame.bytes.count { sendOffset = 0 }
        }
    }

    /// Checks `bytes` (just read) against the replies expected, in order. Calls `onReply` with each
    /// completed reply's round-trip time. Throws LoadError.wrongReply at the first byte that differs.
    func receive(_ bytes: UnsafeRawBufferPointer, frame: FrameTemplate, pipeline: Int, now: UInt64,
                 onReply: (UInt64) -> Void) throws {
        var offset = 0
        while offset < bytes.count {
            guard inFlight > 0 else { throw LoadError.wrongReply("bytes arrived that no request asked for") }
            let take = min(bytes.count - offset, frame.bytes.count - replyOffset)
            let chunk = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + take)])
            guard frame.matches(chunk, at: replyOffset, stamp: nextReplyStamp) else {
                throw LoadError.wrongReply("reply \(nextReplyStamp & 0xFF_FFFF_FFFF) differs from its request within bytes \(replyOffset)..<\(replyOffset + take)")
            }
            offset += take
            replyOffset += take
            if replyOffset == frame.bytes.count {
                replyOffset = 0
                onReply(now &- sendTimes[Int(nextReplyStamp % UInt64(pipeline))])
                nextReplyStamp += 1
                repliesInStretch += 1
            }
        }
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        _ = Glibc.close(fd)   // also takes the fd out of the epoll set
    }
}

enum LoadError: Error, CustomStringConvertible {
    case wrongReply(String)
    case closed(call: String, errno: CInt)
    case endOfStream

    var description: String {
        switch self {
        case .wrongReply(let why): return "wrong reply: \(why)"
        case .closed(let call, let errno): return "\(call): \(errnoName(errno))"
        case .endOfStream: return "the server closed the connection"
        }
    }
}

/// The request frame every connection sends: msgid 1, a payload of a fixed pattern, and the
/// request's stamp in the payload's first (up to) 8 bytes, little-endian.
struct FrameTemplate {
    private(set) var bytes: [UInt8]
    let stampLength: Int

    init(payloadSize: Int) {
        // Frame.header: msgid 1 (echo), then the payload length, both big-endian (the wire format).
        self.bytes = Frame.header(msgid: Frame.echoMsgid, length: UInt32(payloadSize))
            + (0..<payloadSize).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        stampLength = min(8, payloadSize)
    }

    mutating func stamp(_ stamp: UInt64) {
        for i in 0..<stampLength { bytes[8 + i] = UInt8(truncatingIfNeeded: stamp >> UInt64(8 * i)) }
    }

    /// Whether `chunk` equals bytes offset..<offset+chunk.count of the frame stamped `stamp`.
    func matches(_ chunk: UnsafeRawBufferPointer, at offset: Int, stamp: UInt64) -> Bool {
        let end = offset + chunk.count
        let stampStart = 8, stampEnd = 8 + stampLength
        // Outside the stamp, the reply must equal the template: one memcmp per side.
        return bytes.withUnsafeBytes { template in
            let before = max(offset, min(end, stampStart))
            if before > offset, memcmp(chunk.baseAddress!, template.baseAddress! + offset, before - offset) != 0 { return false }
            var i = max(offset, stampStart)
            while i < min(end, stampEnd) {
                if chunk[i - offset] != UInt8(truncatingIfNeeded: stamp >> UInt64(8 * (i - stampStart))) { return false }
                i += 1
            }
            let after = max(offset, stampEnd)
            if end > after, memcmp(chunk.baseAddress! + (after - offset), template.baseAddress! + after, end - after) != 0 { return false }
            return true
        }
    }
}
