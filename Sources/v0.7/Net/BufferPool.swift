// BufferPool.swift: reuses IOBuffers by size class, so serving a client does not mean malloc and free.
// v0.2: take / recycle, six size classes from 4 KiB to 4 MiB, a cap on idle bytes per class; a buffer
//       given back twice stops the program.

/// A pool of IOBuffers, after Lars's buf_pool. `take(minimumCapacity:)` returns an empty buffer from the
/// smallest size class that fits; `recycle` empties a buffer and keeps it for the next `take`.
///
///     class:   4 KiB   16 KiB   64 KiB   256 KiB   1 MiB   4 MiB   | beyond 4 MiB
///     idle:    [b b]   [b]      []       []        [b]     []      | never kept
///
/// A buffer that grew while in use goes back to the largest class it still fills, so a buffer taken
/// from a class always has at least that class's capacity. Buffers beyond the largest class are made to
/// measure and freed on recycle: keeping them would let one huge message pin memory forever. The
/// buffers waiting in one class hold at most `maxIdleBytesPerClass` bytes (counted by capacity, so a
/// buffer that grew to 2 MiB counts as 2 MiB), which bounds the pool's own memory: 6 x 8 MiB by default.
///
/// Owns the idle buffers. One thread only.
public final class BufferPool {
    public static let sizeClasses = [4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20]

    public let maxIdleBytesPerClass: Int
    private var idle: [[IOBuffer]]
    private var idleBytes: [Int]
    /// How many buffers `take` had to allocate (the rest were reused). Tests and logs read it.
    public private(set) var allocations = 0

    public init(maxIdleBytesPerClass: Int = 8 << 20) {
        self.maxIdleBytesPerClass = maxIdleBytesPerClass
        idle = Array(repeating: [], count: BufferPool.sizeClasses.count)
        idleBytes = Array(repeating: 0, count: BufferPool.sizeClasses.count)
    }

    /// An empty buffer with at least `minimumCapacity` bytes of room.
    public func take(minimumCapacity: Int = 0) -> IOBuffer {
        guard let index = BufferPool.sizeClasses.firstIndex(where: { $0 >= minimumCapacity }) else {
            allocations += 1
            return IOBuffer(capacity: (minimumCapacity + 4095) / 4096 * 4096)
        }
        if let buffer = idle[index].popLast() {
            idleBytes[index] -= buffer.capacity
            buffer.isRecycled = false
            return buffer
        }
        allocations += 1
        return IOBuffer(capacity: BufferPool.sizeClasses[index])
    }

    /// Empties `buffer` and keeps it for reuse, or lets it go if it is too big or its class is full.
    /// PITFALL: a pool that keeps every buffer lets one huge message pin its memory for good: a buffer
    /// beyond the largest class is dropped.
    /// Guarded by: Tests/v0.N/BufferPoolTests.swift "beyond the largest class: made to measure, never kept".
    /// PITFALL: a buffer given back twice is handed out by the next two takes to two owners, and one
    /// client's bytes go out on another's connection. The pool stops the program instead. The check is
    /// one flag per buffer, on in every build (release too): two owners are worse than a crash.
    /// Guarded by: Tests/v0.N/BufferPoolTests.swift "a buffer given back twice stops the program".
    public func recycle(_ buffer: IOBuffer) {
        precondition(!buffer.isRecycled, "an IOBuffer was given back to the pool twice: it would get two owners")
        buffer.isRecycled = true
        guard buffer.capacity <= BufferPool.sizeClasses.last!,
              let index = BufferPool.sizeClasses.lastIndex(where: { $0 <= buffer.capacity }),
              idleBytes[index] + buffer.capacity <= maxIdleBytesPerClass else { return }   // dropped: ARC frees it
        buffer.clear()
        idle[index].append(buffer)
        idleBytes[index] += buffer.capacity
    }

    /// How many buffers wait in each size class.
    public var idleCounts: [Int] { idle.map(\.count) }
}
