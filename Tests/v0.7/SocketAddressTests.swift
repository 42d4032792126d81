// SocketAddressTests.swift: parsing and printing IPv4 addresses; the byte order of the port.
import Testing
@testable import Net_v0_7

@Suite struct SocketAddressTests {
    @Test("a port is kept in network byte order") func parsesAndPrints() throws {
        let address = try #require(SocketAddress(host: "10.1.2.3", port: 7777))
        #expect(address.description == "10.1.2.3:7777")
        // The kernel wants the port in network byte order (big-endian): 7777 = 0x1E61.
        withUnsafeBytes(of: address.sin.sin_port) { #expect(Array($0) == [0x1E, 0x61]) }
    }

    @Test func rejectsWhatIsNotAnIPv4Address() {
        #expect(SocketAddress(host: "example.com", port: 1) == nil)
        #expect(SocketAddress(host: "::1", port: 1) == nil)
        #expect(SocketAddress(host: "1.2.3.256", port: 1) == nil)
        #expect(SocketAddress(host: "", port: 1) == nil)
    }
}
