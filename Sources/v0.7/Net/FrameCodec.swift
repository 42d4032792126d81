// FrameCodec.swift: cuts the byte stream into frames and writes frames: the workbook's wire protocol.
// v0.2: 8-byte header (msgid, length; big-endian), max-frame checked as soon as the header is in; error
//       frames start with their code.
// v0.3: nextFrame(in:at:) looks past frames not yet consumed, so a run of frames is answered at once;
//       it reads headers from raw bytes, wherever they are (the loop's read buffer, an IOBuffer).
// v0.5: the wire contract's error codes as one enum (ErrorCode).

/// The header in front of every payload:
///
///     0        4        8                     8 + length
///     +--------+--------+---------------------+
///     | msgid  | length |  payload            |
///     +--------+--------+---------------------+
///      UInt32   UInt32
///      big-endian (network byte order), whatever the machine's own order
///
/// msgid 0 is reserved for error frames, whose payload is a UTF-8 reason.
public struct FrameHeader: Equatable, Sendable {
    public static let size = 8
    public static let errorMsgid: UInt32 = 0

    public var msgid: UInt32
    public var length: UInt32

    /// Header plus payload: how many bytes the whole frame takes in a buffer.
    public var frameSize: Int { FrameHeader.size + Int(length) }
}

/// A peer broke the protocol. The connection that sent it is answered with an error frame and closed;
/// nobody else is affected.
public enum FrameError: Error, CustomStringConvertible, Equatable {
    case tooLarge(length: UInt32, max: Int)

    /// The wire protocol's error code, the first word of the error frame: a program reads the code,
    /// a person the words after it.
    public var code: ErrorCode {
        switch self {
        case .tooLarge: .tooLarge
        }
    }

    public var description: String {
        switch self {
        case .tooLarge(let length, let max): "frame length \(length) exceeds the maximum \(max)"
        }
    }
}

/// The first word of every error frame (the wire contract's table), and what the server counts
/// errors by (stats: `errors_too_large`, ...).
public enum ErrorCode: String, CaseIterable, Sendable {
    /// A header announced more than --max-frame: lingering close.
    case tooLarge = "too-large"
    /// A payload its msgid cannot take (stats with a payload, msgid 0 from a client): stays open.
    case badRequest = "bad-request"
    /// No route for this msgid: stays open.
    case unknownMsgid = "unknown-msgid"
    /// Over --max-connections at accept: lingering close. The worker queue is full (v0.7): stays open.
    case busy
}

public struct FrameCodec: Sendable {
    public static let defaultMaxFrame = 1 << 20

    /// The largest payload accepted. A peer may announce up to 4 GiB in a header; we never buffer
    /// more than this for one frame.
    public let maxFrame: Int

    public init(maxFrame: Int = FrameCodec.defaultMaxFrame) {
        self.maxFrame = maxFrame
    }

    /// The header of the frame starting `offset` bytes into `bytes`, if that whole frame (header and
    /// payload) is there; nil if more bytes are needed. Keeps nothing: the caller uses the frame, then
    /// looks at `offset + frameSize` next. The header is read straight from the bytes, whoever holds
    /// them (the loop's read buffer, an IOBuffer): a raw pointer and one 8-byte load.
    /// PITFALL: the length is checked as soon as the header is in, before waiting for the payload, so a
    /// header that announces 4 GiB cannot make us buffer 4 GiB.
    /// Guarded by: Tests/v0.N/FrameCodecTests.swift "an oversized length is refused from its header alone".
    /// PITFALL: a frame of exactly maxFrame bytes is allowed (`<=`, not `<`).
    /// Guarded by: the ladder's frame-max-size (make check 2).
    public func nextFrame(in bytes: UnsafeRawBufferPointer, at offset: Int = 0) throws(FrameError) -> FrameHeader? {
        guard bytes.count - offset >= FrameHeader.size else { return nil }
        // Both fields in one load: the header's 8 bytes as one big-endian UInt64, msgid in its high half
        // (two 4-byte loads: 2 of 123 instructions per round trip, make bench-instr 3).
        let word = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        let header = FrameHeader(msgid: UInt32(truncatingIfNeeded: word >> 32), length: UInt32(truncatingIfNeeded: word))
        guard Int(header.length) <= maxFrame else {
            throw FrameError.tooLarge(length: header.length, max: maxFrame)
        }
        return bytes.count - offset >= header.frameSize ? header : nil
    }

    /// The same, in the readable bytes of `buffer` (where a client keeps the replies it reads).
    public func nextFrame(in buffer: IOBuffer, at offset: Int = 0) throws(FrameError) -> FrameHeader? {
        try buffer.withReadableBytes { (bytes) throws(FrameError) in try nextFrame(in: bytes, at: offset) }
    }

    /// Appends one frame (header, then `payload`) to `buffer`.
    public func encode(msgid: UInt32, payload: UnsafeRawBufferPointer, into buffer: IOBuffer) {
        buffer.appendUInt32(msgid)
        buffer.appendUInt32(UInt32(payload.count))
        buffer.append(payload)
    }

    /// Appends an error frame (msgid 0) whose payload is `code`, a space and `reason`, in UTF-8:
    /// `too-large frame length 2000000 exceeds the maximum 1048576`.
    /// PITFALL: without the code first, a client cannot tell too-large from bad-request without parsing
    /// prose.
    /// Guarded by: the ladder's frame-oversize, which reads the code (make check 2).
    public func encodeError(code: ErrorCode, _ reason: String, into buffer: IOBuffer) {
        var text = code.rawValue + " " + reason
        text.withUTF8 { encode(msgid: FrameHeader.errorMsgid, payload: UnsafeRawBufferPointer($0), into: buffer) }
    }
}
