// ServerAddress.swift: HOST:PORT of the server under test, as given to --connect or found in the
// server's ready line `listening on HOST:PORT`.

/// An IPv4 address and a TCP port.
public struct ServerAddress: Equatable, Sendable, CustomStringConvertible {
    public let host: String
    public let port: UInt16

    public var description: String { "\(host):\(port)" }

    /// Parses `HOST:PORT`, e.g. `127.0.0.1:7777`; nil unless HOST is a dotted IPv4 address (or
    /// `localhost`, taken as 127.0.0.1) and PORT is in 1...65535.
    public init?(_ text: some StringProtocol) {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        if host == "localhost" { host = "127.0.0.1" }
        guard sysParseIPv4(host) != nil,
              let port = UInt16(text[text.index(after: colon)...]), port != 0 else { return nil }
        self.host = host
        self.port = port
    }

    /// The address in a server's ready line: the first word after `listening on `, anywhere in
    /// the line (a logger may put a timestamp in front). nil if the line is not a ready line.
    public init?(readyLine line: String) {
        guard let marker = line.firstRange(of: "listening on ") else { return nil }
        let word = line[marker.upperBound...].prefix { $0 != " " && $0 != "\t" && $0 != "\r" }
        self.init(word)
    }
}
