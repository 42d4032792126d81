// IOBufferFuzz.swift: libFuzzer target: random sequences of IOBuffer operations (append, consume,
// reserve, compact, clear, append(reserving:), peekUInt32) checked after every step against a plain
// [UInt8] model; AddressSanitizer catches any access outside the buffer's memory.
//
// Input: a sequence of (operation, argument) byte pairs.
// Built with the stage's Net/*.swift into one module, so internal names are visible here.

@_cdecl("LLVMFuzzerTestOneInput")
public func ioBufferFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let buffer = IOBuffer(capacity: 1 + Int(size > 0 ? data[0] % 32 : 0))
    var model: [UInt8] = []
    var next: UInt8 = 0                         // the value of the next byte appended
    func fresh(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in next &+= 1; return next }
    }
    var index = 1
    while index + 1 < size {
        let operation = data[index] % 7
        let argument = Int(data[index + 1])
        index += 2
        switch operation {
        case 0:
            let bytes = fresh(argument)
            bytes.withUnsafeBytes { buffer.append($0) }
            model += bytes
        case 1:
            let count = argument % (model.count + 1)
            buffer.consume(count)
            model.removeFirst(count)
        case 2:
            let before = buffer.capacity
            buffer.reserve(argument * 16)
            check(buffer.writableCount >= argument * 16, "reserve left too little room")
            check(buffer.capacity == before || model.count + argument * 16 > before, "grew although compaction would do")
        case 3:
            buffer.compact()
            check(buffer.readerIndex == 0, "compact left a gap in front")
        case 4:
            buffer.clear()
            model.removeAll()
        case 5:
            var filled = 0
            let written = buffer.append(reserving: argument) { space -> Int in
                check(space.count >= argument, "append(reserving:) offered too little")
                filled = min(space.count, argument / 2 + 1)
                let bytes = fresh(filled)
                for i in 0..<filled { space[i] = bytes[i] }
                model += bytes
                return filled
            }
            check(written == filled, "append(reserving:) returned \(written), the fill wrote \(filled)")
        default:
            if model.count >= 4 {
                let offset = argument % (model.count - 3)
                let expected = model[offset..<(offset + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                check(buffer.peekUInt32(at: offset) == expected, "peekUInt32 disagrees")
            }
        }
        check(0 <= buffer.readerIndex && buffer.readerIndex <= buffer.writerIndex && buffer.writerIndex <= buffer.capacity,
              "indices out of order")
        check(buffer.readableCount == model.count, "readable count \(buffer.readableCount) vs model \(model.count)")
        check(buffer.withReadableBytes { Array($0) } == model, "content differs from the model")
    }
    return 0
}

private func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("IOBufferFuzz: \(message())") }
}
