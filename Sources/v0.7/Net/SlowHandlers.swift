// SlowHandlers.swift: msgid 3 (sleep) and 4 (compute), the handlers too slow for an event loop.
// v0.7: new.
import Glibc

/// A handler that may block its thread or run long: it runs on the worker pool (with --workers 0, on
/// the connection's loop, which then serves nobody else meanwhile: chapter 7 shows it). In two parts:
/// `check` looks at the payload on the loop, before the request is queued, so a malformed one gets
/// `bad-request` at once (never `busy`) and costs no worker; `run` does the work, on any thread, so it
/// touches no connection, loop or buffer pool, only its argument, and returns the reply's payload.
public struct SlowHandler: Sendable {
    public let check: @Sendable (_ payload: UnsafeRawBufferPointer) throws(RequestError) -> Void
    public let run: @Sendable (_ payload: UnsafeRawBufferPointer) -> [UInt8]
}

/// msgid 3: waits the milliseconds in the payload's first 4 bytes (UInt32 big-endian, 0...10,000), then
/// answers with the bytes after them. A stand-in for any call that blocks (a disk, a DNS lookup, a
/// database).
public let sleepHandler = SlowHandler(check: { payload throws(RequestError) in
    _ = try leadingUInt32(payload, "sleep", in: 0...10_000)
}, run: { payload in
    let milliseconds = leadingUInt32(payload)
    var delay = timespec(tv_sec: Int(milliseconds / 1000), tv_nsec: Int(milliseconds % 1000) * 1_000_000)
    var left = timespec()
    while nanosleep(&delay, &left) != 0 && errno == EINTR { delay = left }
    return Array(payload[4...])
})

/// msgid 4: h = FNV-1a-64 of the data after the payload's first 4 bytes, then `rounds - 1` times
/// h = FNV-1a-64 of h as 8 big-endian bytes (rounds: UInt32 big-endian, 1...1,000,000). The reply is h,
/// 8 bytes big-endian. CPU work: a million rounds take some milliseconds.
public let computeHandler = SlowHandler(check: { payload throws(RequestError) in
    _ = try leadingUInt32(payload, "compute", in: 1...1_000_000)
}, run: { payload in
    var hash = fnv1a64(UnsafeRawBufferPointer(rebasing: payload[4...]))
    for _ in 1..<leadingUInt32(payload) {
        hash = withUnsafeBytes(of: hash.bigEndian) { fnv1a64($0) }
    }
    return withUnsafeBytes(of: hash.bigEndian) { Array($0) }
})

/// FNV-1a, 64 bits: for each byte, xor it in, then multiply by the FNV prime.
public func fnv1a64(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01b3
    }
    return hash
}

/// The UInt32 big-endian at the front of `payload`, if it is there and in `range`; else the request is
/// a bad one (the wire contract's `bad-request`).
private func leadingUInt32(_ payload: UnsafeRawBufferPointer, _ name: String, in range: ClosedRange<UInt32>) throws(RequestError) -> UInt32 {
    guard payload.count >= 4 else {
        throw RequestError(.badRequest, "\(name) needs a 4-byte number first, got \(payload.count) bytes")
    }
    let value = leadingUInt32(payload)
    guard range.contains(value) else {
        throw RequestError(.badRequest, "\(name): \(value) is outside \(range.lowerBound)...\(range.upperBound)")
    }
    return value
}

/// The UInt32 big-endian at the front of a payload that `check` has passed.
private func leadingUInt32(_ payload: UnsafeRawBufferPointer) -> UInt32 {
    UInt32(bigEndian: payload.loadUnaligned(as: UInt32.self))
}
