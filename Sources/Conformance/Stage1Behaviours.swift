// Stage1Behaviours.swift: what v0.1 (blocking echo) promises: bytes come back exactly, client after client.
// Against a framed stage (v0.2 on) the same checks travel as frames: see BehaviourContext.echo.

let stage1Behaviours: [Behaviour] = [
    Behaviour("echo-1-byte", stage: 1, "a 1-byte message comes back exactly", check: echoOneByte),
    Behaviour("echo-1-mib", stage: 1, "a 1 MiB message comes back exactly", timeout: .seconds(10), check: echoOneMiB),
    Behaviour("sequential-clients", stage: 1, "100 sequential clients each get their own echo", timeout: .seconds(10), check: sequentialClients),
    Behaviour("silent-client", stage: 1, "a client that closes without sending does not disturb the next", check: silentClient),
    Behaviour("unread-echo-close", stage: 1, "clients that close without reading their echo do not kill the server (SIGPIPE)",
              damaging: true, timeout: .seconds(10), check: unreadEchoClose),
]

/// The smallest message: a server that waits to fill its buffer before echoing hangs here.
private func echoOneByte(_ context: BehaviourContext) throws {
    try context.echo([0x2A], what: "1 byte")
}

/// More than any socket buffer holds, so the server must loop on short reads and short writes.
private func echoOneMiB(_ context: BehaviourContext) throws {
    try context.echo(PseudoRandom.bytes(1 << 20, seed: 1), what: "1 MiB")
}

/// Each client says something different, so a server that answers one client with another's bytes
/// (a buffer kept across connections) is caught. Sequential: v0.1 serves one client at a time.
private func sequentialClients(_ context: BehaviourContext) throws {
    for client in 1...100 {
        try context.echo(Array("client \(client) of 100".utf8), what: "client \(client)'s message")
    }
}

/// A client that hangs up at once makes the server's first read return 0 (end of stream). A server
/// that treats that as an error and exits, or never closes its side, fails the next client.
private func silentClient(_ context: BehaviourContext) throws {
    let silent = try context.connect()
    silent.close()
    try context.echo(Array("after a silent client".utf8), what: "the next client's message")
}

/// A client sends 100 KiB and FIN, then closes at once, before its echo comes. The server's first
/// echo write reaches a closed socket, whose kernel answers RST; the server, which has the FIN and is
/// in CLOSE_WAIT, then fails its next write with EPIPE. Unless the server ignores SIGPIPE (or sends
/// with MSG_NOSIGNAL), that write kills the whole process and every other client with it.
/// It depends on the server writing after the RST arrives, which the scheduler decides, so the check
/// is made 20 times: a server that does not ignore SIGPIPE practically never survives them all.
private func unreadEchoClose(_ context: BehaviourContext) throws {
    // 100 messages of 1 KiB: as raw bytes, 100 KiB; as frames, 100 frames that arrive over many reads.
    let message = (0..<100).flatMap { context.message(carrying: PseudoRandom.bytes(1024, seed: UInt64($0))) }
    for _ in 1...20 {
        let rude = try context.connect()
        try rude.send(message, what: "100 KiB that will not be read back")
        try rude.shutdownWrite()
        rude.close()
    }
    try context.echo(Array("after 20 rude clients".utf8), what: "the next client's message")
}
