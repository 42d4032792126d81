// Stage1Behaviours.swift: what v0.1 (blocking echo) promises: bytes come back exactly, client after client.
// Against a framed stage (v0.2 on) the same checks travel as frames: see BehaviourContext.echo.

let stage1Behaviours: [Behaviour] = [
    Behaviour("echo-1-byte", stage: 1, "a 1-byte message comes back exactly", check: echoOneByte),
    Behaviour("echo-1-mib", stage: 1, "a 1 MiB message comes back exactly", timeout: .seconds(10), check: echoOneMiB),
    Behaviour("sequential-clients", stage: 1, "100 sequential clients each get their own echo", timeout: .seconds(10), check: sequentialClients),
    Behaviour("silent-client", stage: 1, "a client that closes without sending does not disturb the next", check: silentClient),
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
