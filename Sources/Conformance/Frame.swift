// Frame.swift: the workbook's wire frame (from v0.2 on), as the checker writes and reads it.

/// One frame: an 8-byte header, then `length` payload bytes.
///
///     0          4          8
///     +----------+----------+---------------------+
///     |  msgid   |  length  |  payload ...        |
///     | u32 BE   | u32 BE   |  (length bytes)     |
///     +----------+----------+---------------------+
///
/// Both header fields are big-endian ("network order"), so a frame means the same on every machine.
/// msgid 0 is reserved for error frames, whose payload is a UTF-8 reason.
public struct Frame: Equatable, Sendable {
    public static let headerSize = 8
    public static let errorMsgid: UInt32 = 0
    /// The msgid of the checker's own traffic: echo, in every stage that has msgids.
    public static let echoMsgid: UInt32 = 1

    public var msgid: UInt32
    public var payload: [UInt8]

    public init(msgid: UInt32, payload: [UInt8]) {
        self.msgid = msgid
        self.payload = payload
    }

    /// Header and payload, ready to send.
    public var encoded: [UInt8] {
        Frame.header(msgid: msgid, length: UInt32(payload.count)) + payload
    }

    /// Just a header; the checker also sends headers that lie about their payload.
    public static func header(msgid: UInt32, length: UInt32) -> [UInt8] {
        bigEndianBytes(msgid) + bigEndianBytes(length)
    }

    /// The two header fields of the first 8 bytes of `bytes`, or nil if there are fewer than 8.
    public static func decodeHeader(_ bytes: [UInt8]) -> (msgid: UInt32, length: UInt32)? {
        guard bytes.count >= headerSize else { return nil }
        return (bigEndianValue(bytes[0..<4]), bigEndianValue(bytes[4..<8]))
    }

    private static func bigEndianBytes(_ value: UInt32) -> [UInt8] {
        [UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
         UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }

    private static func bigEndianValue(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }
}
