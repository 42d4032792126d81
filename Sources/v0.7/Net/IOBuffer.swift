// IOBuffer.swift: a growable byte buffer with a read index and a write index (muduo Buffer, Lars io_buf).
// v0.2: append (also straight from read(2)), peek, consume, compact, grow; isRecycled, for the pool.
// v0.3: withReadableBytes passes a typed error through (the codec's FrameError).
// v0.5: setUInt32(_:at:): a reply's length, written into its header once the payload is in.

/// Contiguous bytes with two indices:
///
///     +-------------------+------------------+------------------+
///     |  consumed bytes   |  readable bytes  |  writable bytes  |
///     |  (reusable)       |    (content)     |                  |
///     +-------------------+------------------+------------------+
///     0      <=      readerIndex   <=   writerIndex    <=    capacity
///
/// read(2) appends at `writerIndex`; the codec consumes from `readerIndex`. When the writable part is too
/// small, `reserve` first compacts (moves the readable bytes to the front, reusing the consumed part) and
/// grows only if that is not enough. When everything is consumed both indices go back to 0, which costs
/// nothing: in an echo server that is the common case, so compaction rarely copies.
///
/// Owns its memory; frees it in deinit. One thread only.
public final class IOBuffer {
    private var storage: UnsafeMutableRawPointer
    public private(set) var capacity: Int
    public private(set) var readerIndex = 0
    public private(set) var writerIndex = 0
    /// Set while the buffer belongs to a BufferPool (given back, not yet handed out again): the pool
    /// reads it to catch a buffer given back twice. Only the pool changes it.
    var isRecycled = false

    public init(capacity: Int) {
        precondition(capacity > 0)
        storage = .allocate(byteCount: capacity, alignment: 16)
        self.capacity = capacity
    }

    deinit { storage.deallocate() }

    public var readableCount: Int { writerIndex - readerIndex }
    public var writableCount: Int { capacity - writerIndex }
    public var isEmpty: Bool { readerIndex == writerIndex }

    /// Lends the readable bytes to `body`. Do not keep the pointer: the next append may move them.
    public func withReadableBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: storage + readerIndex, count: readableCount))
    }

    /// The big-endian UInt32 at `offset` bytes past `readerIndex` (which must be readable).
    public func peekUInt32(at offset: Int) -> UInt32 {
        precondition(offset >= 0 && offset + 4 <= readableCount)
        return UInt32(bigEndian: storage.loadUnaligned(fromByteOffset: readerIndex + offset, as: UInt32.self))
    }

    /// Overwrites the readable bytes at `offset` with `value`, big-endian: a frame header written before
    /// its payload's length was known (the server's replies).
    public func setUInt32(_ value: UInt32, at offset: Int) {
        precondition(offset >= 0 && offset + 4 <= readableCount)
        storage.storeBytes(of: value.bigEndian, toByteOffset: readerIndex + offset, as: UInt32.self)
    }

    /// Marks `count` readable bytes as used. Consuming everything resets both indices to 0.
    public func consume(_ count: Int) {
        precondition(count >= 0 && count <= readableCount)
        readerIndex += count
        if readerIndex == writerIndex { clear() }
    }

    /// Forgets all content; keeps the memory.
    public func clear() {
        readerIndex = 0
        writerIndex = 0
    }

    /// Makes room for at least `count` more bytes after `writerIndex`: compacts first, grows if needed.
    public func reserve(_ count: Int) {
        if writableCount >= count { return }
        if readerIndex + writableCount >= count {
            compact()
        } else {
            grow(toAtLeast: readableCount + count)
        }
    }

    /// Appends a copy of `bytes`.
    public func append(_ bytes: UnsafeRawBufferPointer) {
        reserve(bytes.count)
        if let base = bytes.baseAddress {
            (storage + writerIndex).copyMemory(from: base, byteCount: bytes.count)
        }
        writerIndex += bytes.count
    }

    /// Appends `value` as 4 big-endian bytes.
    /// PITFALL: the wire's byte order, not the CPU's (little-endian on x86), or a peer on another CPU,
    /// or in another language, reads msgid 1 as 16777216.
    /// Guarded by: Tests/v0.N/FrameCodecTests.swift "the frame header is big-endian on the wire".
    public func appendUInt32(_ value: UInt32) {
        withUnsafeBytes(of: value.bigEndian) { append($0) }
    }

    /// Lets `fill` write straight into the writable part (no copy: this is where read(2) puts its bytes)
    /// and returns what `fill` returned: the number of bytes it wrote. Reserves `minimum` bytes first,
    /// so the space offered grows with the buffer: large messages take few reads.
    public func append(reserving minimum: Int, _ fill: (UnsafeMutableRawBufferPointer) throws -> Int) rethrows -> Int {
        reserve(minimum)
        let count = try fill(UnsafeMutableRawBufferPointer(start: storage + writerIndex, count: writableCount))
        precondition(count >= 0 && count <= writableCount)
        writerIndex += count
        return count
    }

    /// Moves the readable bytes to the front, turning the consumed part into writable space.
    /// PITFALL: the indices say where the bytes are: reset them without moving the bytes, and the next
    /// read takes whatever was at the front.
    /// Guarded by: Tests/v0.N/IOBufferTests.swift "reserve compacts before it grows".
    func compact() {
        let count = readableCount
        if readerIndex > 0 && count > 0 {
            storage.copyMemory(from: storage + readerIndex, byteCount: count)   // memmove: ranges may overlap
        }
        readerIndex = 0
        writerIndex = count
    }

    /// Doubles the capacity until `needed` fits; moves the readable bytes to the front of the new memory.
    private func grow(toAtLeast needed: Int) {
        var newCapacity = capacity
        while newCapacity < needed { newCapacity *= 2 }
        let newStorage = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        newStorage.copyMemory(from: storage + readerIndex, byteCount: readableCount)
        storage.deallocate()
        storage = newStorage
        capacity = newCapacity
        writerIndex = readableCount
        readerIndex = 0
    }
}
