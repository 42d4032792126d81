// SocketAddress.swift: an IPv4 address and port, and the sockaddr casts the kernel wants.
// v0.1: parse "127.0.0.1", print "127.0.0.1:7777", convert to and from sockaddr.
// v0.4: ==, for the Connector's self-connect check.
import Glibc

/// An IPv4 socket address. The workbook speaks IPv4 only (IPv6 is an exercise in chapter 1).
public struct SocketAddress: CustomStringConvertible, Equatable, Sendable {
    var sin: sockaddr_in

    /// Parses a dotted IPv4 address ("127.0.0.1"; "localhost" is taken as 127.0.0.1).
    /// Returns nil for anything else.
    public init?(host: String, port: UInt16) {
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        // PITFALL: network byte order is big-endian; x86 and ARM are little-endian, so the port is
        // swapped. Stored as it is, port 7777 would be 24862 on the wire.
        // Guarded by: Tests/v0.N/SocketAddressTests.swift "a port is kept in network byte order".
        sin.sin_port = port.bigEndian
        let text = host == "localhost" ? "127.0.0.1" : host
        guard inet_pton(AF_INET, text, &sin.sin_addr) == 1 else { return nil }
        self.sin = sin
    }

    /// Converts what accept(2)/getsockname(2) filled in. The family is checked before the cast:
    /// a sockaddr_storage only holds a sockaddr_in when ss_family says AF_INET.
    init?(_ storage: sockaddr_storage) {
        guard storage.ss_family == sa_family_t(AF_INET) else { return nil }
        var storage = storage
        sin = withUnsafeBytes(of: &storage) { $0.load(as: sockaddr_in.self) }
    }

    public var port: UInt16 { UInt16(bigEndian: sin.sin_port) }

    public var host: String {
        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        var addr = sin.sin_addr
        _ = inet_ntop(AF_INET, &addr, &text, socklen_t(text.count))
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var description: String { "\(host):\(port)" }

    /// Same address and port. (sockaddr_in is a C struct, which Swift cannot compare by itself.)
    public static func == (a: SocketAddress, b: SocketAddress) -> Bool {
        a.sin.sin_port == b.sin.sin_port && a.sin.sin_addr.s_addr == b.sin.sin_addr.s_addr
    }

    /// Lends the address as the `sockaddr *` + length pair that bind(2) and connect(2) take.
    /// The pointer is valid only inside `body`.
    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        withUnsafePointer(to: sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                body($0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }
}
