// FrameDecoderFuzz.swift: libFuzzer target: FrameCodec.nextFrame fed arbitrary bytes in arbitrary
// chunks must yield exactly the frames a plain reference parser finds, or the protocol error it
// predicts, and never crash, hang or read outside the buffer (AddressSanitizer watches that).
//
// Input layout:  byte 0: max-frame = byte * 16 (0...4080)
//                byte 1: largest read size, 1...256 (0 means 256); the sizes vary below it
//                rest:   the byte stream a peer sends
// Built with the stage's Net/*.swift into one module, so internal names are visible here.

@_cdecl("LLVMFuzzerTestOneInput")
public func frameDecoderFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 2 else { return 0 }
    let maxFrame = Int(data[0]) * 16
    let largestRead = data[1] == 0 ? 256 : Int(data[1])
    let stream = Array(UnsafeBufferPointer(start: data + 2, count: size - 2))
    let expected = referenceParse(stream, maxFrame: maxFrame)

    let codec = FrameCodec(maxFrame: maxFrame)
    let buffer = IOBuffer(capacity: 16)        // small, so growth and compaction happen often
    var fed = 0                                // stream bytes appended so far
    var consumed = 0                           // stream bytes taken as whole frames
    var frames = 0
    var readSize = UInt32(truncatingIfNeeded: largestRead) &* 2654435761
    while fed < stream.count {
        readSize = readSize &* 1103515245 &+ 12345
        let count = min(stream.count - fed, 1 + Int(readSize >> 16) % largestRead)
        stream[fed..<(fed + count)].withUnsafeBytes { buffer.append($0) }
        fed += count
        do {
            while let header = try codec.nextFrame(in: buffer) {
                let bytes = buffer.withReadableBytes { Array($0[..<header.frameSize]) }
                check(bytes == Array(stream[consumed..<(consumed + header.frameSize)]), "frame bytes differ from the stream")
                check(frames < expected.frames, "a frame the reference parser does not see")
                buffer.consume(header.frameSize)
                consumed += header.frameSize
                frames += 1
            }
        } catch {
            // An oversized header: it must be the one the reference predicts, reported by the read
            // that completed that header, not later (no payload may be waited for).
            check(expected.errorAt == consumed, "protocol error at \(consumed), expected at \(String(describing: expected.errorAt))")
            check(fed - count < consumed + FrameHeader.size, "oversized header reported late")
            check(frames == expected.frames, "frames before the error: \(frames) vs \(expected.frames)")
            return 0
        }
    }
    check(expected.errorAt == nil || stream.count < expected.errorAt! + FrameHeader.size, "missed a protocol error")
    check(frames == expected.frames, "decoded \(frames) frames, reference \(expected.frames)")
    check(buffer.readableCount == stream.count - consumed, "leftover bytes disagree")
    return 0
}

/// The simplest possible parser: walk the whole stream at once.
private func referenceParse(_ stream: [UInt8], maxFrame: Int) -> (frames: Int, errorAt: Int?) {
    var offset = 0
    var frames = 0
    while stream.count - offset >= 8 {
        let length = stream[(offset + 4)..<(offset + 8)].reduce(0) { $0 << 8 | Int($1) }
        if length > maxFrame { return (frames, offset) }
        if stream.count - offset < 8 + length { break }
        offset += 8 + length
        frames += 1
    }
    return (frames, nil)
}

private func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("FrameDecoderFuzz: \(message())") }
}
