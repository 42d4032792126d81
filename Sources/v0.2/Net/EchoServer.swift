// EchoServer.swift: the blocking echo server: one client at a time, bytes sent back as they came.
// v0.1: accept a client, read/write until it closes, then accept the next.
// v0.2: frames: read into an input IOBuffer, echo each whole frame via an output IOBuffer, answer a
//       protocol error with an error frame and close that client; buffers come from a BufferPool.

/// Serves one client at a time, on one thread, with blocking calls.
///
///     accept() ──► read() into input ──► whole frames? ──► copy them to output ──► writeAll(output) ──┐
///        ▲           ▲                     │ not yet                                                 │
///        │           └─────────────────────┴─────────────────────────────────────────────────────────┘
///        └──────────── read() returned 0 (client closed), or a protocol error (error frame sent)
///
/// While `serve` runs, nobody calls accept(2): a second client's connection completes (the kernel does
/// the handshake and queues it in the listen backlog) but its bytes sit unread until the first leaves.
/// Guarded by: Tests/v0.N/EchoServerTests.swift "a second client waits for the first".
public final class EchoServer {
    private let listener: Socket
    public let address: SocketAddress
    private let codec: FrameCodec
    /// Input and output buffers for each client come from here and go back when it leaves, so the
    /// next client reuses them instead of allocating.
    public let pool = BufferPool()

    /// Listens on `address`. Throws if the port is busy (EADDRINUSE) or the address is not ours.
    public init(address: SocketAddress, maxFrame: Int = FrameCodec.defaultMaxFrame) throws {
        listener = try Socket.listen(on: address)
        self.address = try listener.localAddress() ?? address
        codec = FrameCodec(maxFrame: maxFrame)
    }

    /// Serves clients forever, one after the other.
    public func run() -> Never {
        while true {
            do {
                var peer: SocketAddress?
                let client = try listener.accept(peer: &peer)
                serve(client, peer: peer.map(String.init(describing:)) ?? "?")
            } catch {
                // EMFILE and friends: logged, then accept again. If the error persists this loop spins;
                // the event loop of v0.3 deals with it properly.
                log("accept failed: \(error)")
            }
        }
    }

    /// Echoes frames until the client closes, then closes our end (the `client` owner goes out of scope).
    func serve(_ client: consuming Socket, peer: String) {
        log("client \(peer) connected")
        let input = pool.take()
        let output = pool.take()
        defer {
            pool.recycle(input)
            pool.recycle(output)
        }
        var echoed = 0
        do {
            while true {
                // Read whatever has arrived: part of a frame, one frame, or many. At least 1 KiB of
                // room: asking for a whole 4 KiB would grow a 4 KiB buffer holding one leftover byte.
                let count = try input.append(reserving: 1024) { try client.read(into: $0) }
                if count == 0 { break }
                // PITFALL: a read ends anywhere: mid-header, mid-payload, or after several frames.
                // Take every whole frame; leave a partial one in `input` for the next read.
                // Guarded by: the ladder's frame-byte-by-byte and frames-in-one-write (make check 2).
                while let header = try codec.nextFrame(in: input) {
                    input.withReadableBytes { output.append(UnsafeRawBufferPointer(rebasing: $0[..<header.frameSize])) }
                    input.consume(header.frameSize)
                    echoed += 1
                }
                try flush(output, to: client)
            }
            let rest = input.isEmpty ? "" : " (\(input.readableCount) bytes of an unfinished frame dropped)"
            log("client \(peer) closed after \(echoed) frames echoed\(rest)")
        } catch let error as FrameError {
            // The client broke the protocol: say why in an error frame (msgid 0), then close. The frames
            // it sent before the bad header are in `output` already and go out first.
            codec.encodeError(code: error.code, "\(error)", into: output)
            try? flush(output, to: client)
            log("client \(peer) closed: protocol error: \(error)")
        } catch {
            // ECONNRESET, EPIPE: that client is gone. Only this connection ends; the server goes on.
            log("client \(peer) dropped after \(echoed) frames: \(error)")
        }
    }

    private func flush(_ output: IOBuffer, to client: borrowing Socket) throws {
        try output.withReadableBytes { try client.writeAll($0) }
        output.clear()
    }
}
