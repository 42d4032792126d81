// SlowHandlersTests.swift: msgid 3 (sleep) and 4 (compute) as the wire contract defines them.
@testable import Net_v0_7
import Testing

@Suite struct SlowHandlersTests {
    func payload(_ number: UInt32, _ bytes: [UInt8] = []) -> [UInt8] {
        withUnsafeBytes(of: number.bigEndian) { Array($0) } + bytes
    }

    /// What the server does: check on the loop, then run (on a worker).
    func run(_ handler: SlowHandler, _ bytes: [UInt8]) -> Result<[UInt8], RequestError> {
        bytes.withUnsafeBytes { raw in
            Result { () throws(RequestError) in
                try handler.check(raw)
                return handler.run(raw)
            }
        }
    }

    @Test("FNV-1a-64 matches the published test vectors")
    func fnvVectors() {
        func hash(_ text: String) -> UInt64 { Array(text.utf8).withUnsafeBytes { fnv1a64($0) } }
        #expect(hash("") == 0xcbf2_9ce4_8422_2325)
        #expect(hash("a") == 0xaf63_dc4c_8601_ec8c)
        #expect(hash("foobar") == 0x8594_4171_f739_67e8)
    }

    @Test("compute: rounds of FNV-1a-64, the hash fed back as 8 big-endian bytes")
    func compute() throws {
        let once = try run(computeHandler, payload(1, Array("abc".utf8))).get()
        #expect(once == withUnsafeBytes(of: UInt64(0xe71f_a219_0541_574b).bigEndian) { Array($0) })
        // Three rounds over "abc", worked out by hand from the contract (python3 gives the same).
        let thrice = try run(computeHandler, payload(3, Array("abc".utf8))).get()
        #expect(thrice == withUnsafeBytes(of: UInt64(0x0428_4346_4c6f_9233).bigEndian) { Array($0) })
    }

    @Test("sleep answers the bytes after its 4; bad payloads are bad-request")
    func sleepAndBadRequests() throws {
        #expect(try run(sleepHandler, payload(0, Array("hi".utf8))).get() == Array("hi".utf8))
        for (handler, bytes) in [(sleepHandler, [UInt8]([0, 0])), (sleepHandler, payload(10_001)),
                                 (computeHandler, []), (computeHandler, payload(0)), (computeHandler, payload(1_000_001))] {
            guard case .failure(let error) = run(handler, bytes) else {
                Issue.record("\(bytes) was accepted")
                continue
            }
            #expect(error.code == .badRequest)
        }
    }
}
