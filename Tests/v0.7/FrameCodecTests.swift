// FrameCodecTests.swift: cutting a byte stream into frames however the reads split it.
import Testing
@testable import Net_v0_7

@Suite struct FrameCodecTests {
    struct Frame: Equatable { var msgid: UInt32; var payload: [UInt8] }

    let codec = FrameCodec(maxFrame: 100)

    /// The wire bytes of `frames`, back to back.
    func wire(_ frames: [Frame]) -> [UInt8] {
        let buffer = IOBuffer(capacity: 64)
        for frame in frames { frame.payload.withUnsafeBytes { codec.encode(msgid: frame.msgid, payload: $0, into: buffer) } }
        return buffer.withReadableBytes { Array($0) }
    }

    /// Feeds `chunks` one at a time, as successive reads would, taking every whole frame after each.
    func decode(_ chunks: [ArraySlice<UInt8>]) throws -> [Frame] {
        let buffer = IOBuffer(capacity: 16)
        var frames: [Frame] = []
        for chunk in chunks {
            chunk.withUnsafeBytes { buffer.append($0) }
            while let header = try codec.nextFrame(in: buffer) {
                let payload = buffer.withReadableBytes { Array($0[FrameHeader.size..<header.frameSize]) }
                frames.append(Frame(msgid: header.msgid, payload: payload))
                buffer.consume(header.frameSize)
            }
        }
        return frames
    }

    let sample = [Frame(msgid: 1, payload: Array("hello".utf8)),
                  Frame(msgid: 2, payload: []),
                  Frame(msgid: 0xFFFF_FFFF, payload: Array(repeating: 7, count: 100))]

    @Test("the frame header is big-endian on the wire") func headerIsBigEndian() {
        #expect(wire([Frame(msgid: 0x0102_0304, payload: [9])]) == [1, 2, 3, 4, 0, 0, 0, 1, 9])
    }

    @Test("a header split at every byte offset")
    func splitAtEveryOffset() throws {
        let bytes = wire(sample)
        for cut in 0...bytes.count {
            #expect(try decode([bytes[..<cut], bytes[cut...]]) == sample, "cut at \(cut)")
        }
    }

    @Test("one byte per read")
    func oneBytePerRead() throws {
        let bytes = wire(sample)
        #expect(try decode(bytes.indices.map { bytes[$0...$0] }) == sample)
    }

    @Test("many frames in one read come out in order")
    func manyFramesPerRead() throws {
        let frames = (1...100).map { Frame(msgid: UInt32($0), payload: Array(repeating: UInt8($0), count: $0 % 7)) }
        #expect(try decode([wire(frames)[...]]) == frames)
    }

    @Test("zero-length and exactly maximum-size frames are fine")
    func edgeSizes() throws {
        let frames = [Frame(msgid: 1, payload: []), Frame(msgid: 1, payload: Array(repeating: 1, count: 100))]
        #expect(try decode([wire(frames)[...]]) == frames)
    }

    @Test("an oversized length is refused from its header alone")
    func oversizedHeader() {
        let header: [UInt8] = [0, 0, 0, 1, 0, 0, 0, 101]   // length 101 > maxFrame 100, no payload sent
        #expect(throws: FrameError.tooLarge(length: 101, max: 100)) { try decode([header[...]]) }
        let huge: [UInt8] = [0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF]
        #expect(throws: FrameError.tooLarge(length: 0xFFFF_FFFF, max: 100)) { try decode([huge[...]]) }
    }

    @Test("an error frame's payload starts with its code")
    func errorFrame() throws {
        let buffer = IOBuffer(capacity: 8)
        let error = FrameError.tooLarge(length: 101, max: 100)
        codec.encodeError(code: error.code, "\(error)", into: buffer)
        let header = try #require(try codec.nextFrame(in: buffer))
        #expect(header.msgid == 0)
        let payload = buffer.withReadableBytes { String(decoding: $0[FrameHeader.size...], as: UTF8.self) }
        #expect(payload == "too-large frame length 101 exceeds the maximum 100")
    }
}
