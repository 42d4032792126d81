// BufferPoolTests.swift: the pool hands out buffers by size class and reuses what comes back.
import Testing
@testable import Net_v0_7

@Suite struct BufferPoolTests {
    @Test("take picks the smallest size class that fits")
    func sizeClasses() {
        let pool = BufferPool()
        #expect(pool.take().capacity == 4096)
        #expect(pool.take(minimumCapacity: 4096).capacity == 4096)
        #expect(pool.take(minimumCapacity: 4097).capacity == 16 << 10)
        #expect(pool.take(minimumCapacity: 1 << 20).capacity == 1 << 20)
        #expect(pool.take(minimumCapacity: 4 << 20).capacity == 4 << 20)
    }

    @Test("a recycled buffer is reused, empty")
    func reuse() {
        let pool = BufferPool()
        let first = pool.take()
        [1, 2, 3].withUnsafeBytes { first.append($0) }
        pool.recycle(first)
        let second = pool.take()
        #expect(second === first)
        #expect(second.isEmpty)
        #expect(pool.allocations == 1)
    }

    @Test("classes do not mix: a 16 KiB request does not get a 4 KiB buffer")
    func classesDoNotMix() {
        let pool = BufferPool()
        let small = pool.take()
        pool.recycle(small)
        let bigger = pool.take(minimumCapacity: 10_000)
        #expect(bigger !== small)
        #expect(pool.idleCounts[0] == 1)
    }

    @Test("a buffer that grew goes back to the largest class it fills")
    func grownBufferChangesClass() {
        let pool = BufferPool()
        let buffer = pool.take()
        buffer.reserve(20_000)                  // 4 KiB doubled to 32 KiB
        #expect(buffer.capacity == 32 << 10)
        pool.recycle(buffer)
        #expect(pool.idleCounts == [0, 1, 0, 0, 0, 0])
        #expect(pool.take(minimumCapacity: 16 << 10) === buffer)
    }

    @Test("beyond the largest class: made to measure, never kept")
    func beyondLargestClass() {
        let pool = BufferPool()
        let huge = pool.take(minimumCapacity: (4 << 20) + 1)
        #expect(huge.capacity == (4 << 20) + 4096)   // rounded up to whole pages
        pool.recycle(huge)
        #expect(pool.idleCounts.allSatisfy { $0 == 0 })
        _ = pool.take(minimumCapacity: (4 << 20) + 1)
        #expect(pool.allocations == 2)
    }

    @Test("idle buffers in a class are capped by bytes, counted by capacity")
    func idleByteCap() {
        let pool = BufferPool(maxIdleBytesPerClass: 8192)
        let buffers = (0..<5).map { _ in pool.take() }
        buffers.forEach(pool.recycle)
        #expect(pool.idleCounts[0] == 2)        // 2 x 4 KiB = the 8 KiB budget

        let big = BufferPool(maxIdleBytesPerClass: 4 << 20)
        let grown = (0..<3).map { _ in big.take(minimumCapacity: 1 << 20) }
        for buffer in grown { buffer.reserve((1 << 20) + 8) }   // a max-size frame: doubled to 2 MiB
        grown.forEach(big.recycle)
        #expect(big.idleCounts[4] == 2)         // 2 x 2 MiB fill the 1 MiB class's 4 MiB budget
    }

    @Test("a buffer given back twice stops the program")
    func doubleRecycleStops() async {
        await #expect(processExitsWith: .failure) {
            let pool = BufferPool()
            let buffer = pool.take()
            pool.recycle(buffer)
            pool.recycle(buffer)                  // the next two takes would hand it to two owners
        }
    }
}
