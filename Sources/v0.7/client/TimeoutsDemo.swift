// TimeoutsDemo.swift: the v0.6 client's part of `make stage 6`: a connection left idle, a frame sent one
// byte at a time, and (--pipeline N) frames in flight while the server is told to stop.
import Glibc
import Net_v0_7

/// Shows v0.6's deadlines from the client's side (make stage 6 starts the server with
/// --idle-timeout 1s and --frame-timeout 1s), and its graceful stop.
struct TimeoutsDemo {
    let address: SocketAddress
    let maxFrame: Int

    /// A connection that sends nothing, then one that sends a frame one byte every 200 ms: each is
    /// closed by the server, and this says after how long. Returns the exit status.
    func run() -> CInt {
        do {
            let started = ContinuousClock.now
            let idle = try Socket.connect(to: address)
            var patience = timeval(tv_sec: 10, tv_usec: 0)     // a server without --idle-timeout never closes it
            setsockopt(idle.fd, SOL_SOCKET, SO_RCVTIMEO, &patience, socklen_t(MemoryLayout<timeval>.size))
            var byte: UInt8 = 0
            guard (withUnsafeMutableBytes(of: &byte) { try? idle.read(into: $0) }) == 0 else {   // blocks until the server closes
                printLine("an idle connection: not closed by the server within 10 s (is --idle-timeout set?)")
                return 1
            }
            printLine("an idle connection: closed by the server after \(seconds(ContinuousClock.now - started))")

            let slow = try Socket.connect(to: address)
            let frame = IOBuffer(capacity: 64)
            [UInt8](repeating: 0x2e, count: 30).withUnsafeBytes { FrameCodec(maxFrame: maxFrame).encode(msgid: 1, payload: $0, into: frame) }
            let bytes = frame.withReadableBytes { Array($0) }
            let slowStart = ContinuousClock.now
            var sent = 0
            while sent < bytes.count, !closedByPeer(slow.fd) {
                try bytes[sent...sent].withUnsafeBytes { try slow.writeAll($0) }
                sent += 1
                usleep(200_000)
            }
            printLine("a frame sent one byte every 200 ms: closed by the server after \(seconds(ContinuousClock.now - slowStart)),"
                      + " \(sent) of its \(bytes.count) bytes sent")
            return sent < bytes.count ? 0 : 1
        } catch {
            printLine("error: \(error)")
            return 1
        }
    }

    /// Sends `count` echo frames in one write, says so, then reads replies until the server ends the
    /// connection: `make stage 6` sends the server SIGTERM in between. Returns the exit status: 0 if
    /// every frame was answered, in order, before the end of stream.
    func pipeline(_ count: Int) -> CInt {
        do {
            let socket = try Socket.connect(to: address)
            let codec = FrameCodec(maxFrame: maxFrame)
            let out = IOBuffer(capacity: 64 * count)
            for index in 0..<count {
                Array("frame \(index)".utf8).withUnsafeBytes { codec.encode(msgid: 1, payload: $0, into: out) }
            }
            try out.withReadableBytes { try socket.writeAll($0) }
            printLine("sent \(count) frames")
            let input = IOBuffer(capacity: 4096)
            var answered = 0
            while true {
                let n = try input.append(reserving: 4096) { try socket.read(into: $0) ?? 0 }
                while let header = try codec.nextFrame(in: input) {
                    let text = input.withReadableBytes { String(decoding: $0[FrameHeader.size..<header.frameSize], as: UTF8.self) }
                    if header.msgid == 1 && text == "frame \(answered)" { answered += 1 }
                    input.consume(header.frameSize)
                }
                if n == 0 { break }
            }
            printLine("\(answered) of \(count) frames answered, in order, then end of stream")
            return answered == count ? 0 : 1
        } catch {
            printLine("error: \(error)")
            return 1
        }
    }

    /// True if the server has closed or reset the connection (poll says so without reading).
    private func closedByPeer(_ fd: CInt) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, 0) == 1 else { return false }
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, CInt(MSG_PEEK)) <= 0
    }

    private func seconds(_ duration: Duration) -> String {
        let (whole, fraction) = duration.components
        return "\(whole).\(fraction / 100_000_000_000_000_000) s"
    }
}
