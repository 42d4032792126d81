// CheckerCanFailTests.swift: a checker that always says PASS proves nothing; these prove it can FAIL,
// and that it fails with a message that says why, in bounded time, leaving no process behind.
import Conformance
import Glibc
import Testing

@Suite(.timeLimit(.minutes(5))) struct CheckerCanFailTests {
    @Test func oversizeFailsAgainstARawEchoServer() throws {
        // v0.1 echoes our oversized header back instead of answering with an error frame.
        let result = try runOne("frame-oversize", stage: 2, target: .command(try serverCommand(stage: 1)))
        #expect(!result.passed)
        #expect(result.failure?.contains("expected an error frame (msgid 0), got a header with msgid 1") == true, "\(result.failure ?? "")")
    }

    @Test func connectToAPortWithNoListenerNamesECONNREFUSED() throws {
        let port = try BoundButNotListening()
        let result = try runOne("echo-1-byte", stage: 1, target: .address(try #require(ServerAddress("127.0.0.1:\(port.port)"))))
        #expect(result.failure?.contains("ECONNREFUSED") == true, "\(result.failure ?? "passed")")
    }

    @Test func aServerThatExitsAtOnceFailsBeforeReady() throws {
        let result = try runOne("echo-1-byte", stage: 1, target: .command("false"))
        #expect(result.failure?.contains("exited before ready") == true, "\(result.failure ?? "passed")")
    }

    @Test func aServerThatNeverGetsReadyTimesOutAndIsStopped() throws {
        // `{port}` keeps the checker from appending `--port 0`; it becomes the script's $0.
        // The script prints its pid (= its process group) and starts a child, so the test can see
        // that the whole group is gone, not just the process the checker waits for.
        let command = "sh -c 'echo group $$; sleep 30 & sleep 30' {port}"
        let started = ContinuousClock.now
        let result = try runOne("echo-1-byte", stage: 1, target: .command(command), readyTimeout: .seconds(1))
        let failure = result.failure ?? "passed"
        #expect(failure.contains("no ready line"), "\(failure)")
        #expect(ContinuousClock.now - started < .seconds(10))
        let group = try #require(failure.split(separator: "\n").compactMap { line in
            line.firstRange(of: "group ").flatMap { pid_t(line[$0.upperBound...]) }
        }.first, "the script's pid is not in the failure's output lines: \(failure)")
        // Signalled, a process may still need a moment to exit: give the group up to 5 s to empty.
        let settle = ContinuousClock.now + .seconds(5)
        while !liveProcesses(inGroup: group).isEmpty && ContinuousClock.now < settle { sysSleep(.milliseconds(10)) }
        #expect(liveProcesses(inGroup: group).isEmpty, "processes left in group \(group) 5 s after the checker stopped it")
        #expect(liveProcesses(inGroup: getpgrp()).contains(getpid()), "liveProcesses cannot see this test's own process")
    }

    @Test func concurrentClientsFailAgainstABlockingServer() throws {
        // v0.2 serves one client at a time and its listen backlog holds 128: of 200 clients, about 130
        // connect and one is served.
        let result = try runOne("concurrent-clients", stage: 3, target: .command(try serverCommand(stage: 2)))
        let failure = result.failure ?? "passed"
        #expect(failure.contains("connects still in progress") || failure.contains("clients got their whole echo"), "\(failure)")
    }

    @Test func aSlowReaderHoldsUpABlockingServer() throws {
        let result = try runOne("slow-reader", stage: 3, target: .command(try serverCommand(stage: 2)))
        let failure = result.failure ?? "passed"
        #expect(failure.contains("waiting for the echo of client 1 of 20"), "\(failure)")
    }

    @Test func aBlockingServerAtItsFdLimitDoesNotTakeANewClient() throws {
        // v0.2 is still reading client A, so the client after the storm waits in the backlog.
        let result = try runOne("fd-limit", stage: 3, target: .command(try serverCommand(stage: 2)))
        let failure = result.failure ?? "passed"
        #expect(failure.contains("a new client's message once the storm's 200 connections closed"), "\(failure)")
    }

    @Test func behavioursThatNeedThePidAreSkippedUnderConnect() throws {
        // Nothing listens there: a skipped behaviour must not even connect, and echo-1-byte shows
        // that the run did go to that address.
        let port = try BoundButNotListening()
        var options = CheckerOptions(stage: 3, target: .address(try #require(ServerAddress("127.0.0.1:\(port.port)"))))
        options.only = ["echo-1-byte", "fd-baseline", "fd-limit", "never-reader"]
        let results = LadderRunner(options: options).run()
        #expect(results.map(\.skipped) == [false, true, true, true])
        #expect(results.first?.failure?.contains("ECONNREFUSED") == true)
        for result in results.dropFirst() {
            #expect(Report.line(for: result).hasPrefix("SKIP  v0.3  \(result.behaviour.id) "), "\(Report.line(for: result))")
            #expect(result.skipReason?.contains("--connect") == true || result.skipReason?.contains("--server") == true)
        }
        #expect(Report.summary(results) == "0 passed, 1 failed, 3 skipped")
        #expect(Report.summary(Array(results.prefix(1))) == "0 passed, 1 failed")   // no skips, no ", 0 skipped"
    }

    @Test func aServerThatDiesFailsTheBehaviourWithItsExitStatus() throws {
        // Prints a ready line for a port nobody listens on, then exits 3.
        let port = try BoundButNotListening()
        let command = "sh -c 'echo listening on 127.0.0.1:\(port.port); exit 3' {port}"
        let result = try runOne("echo-1-byte", stage: 1, target: .command(command))
        let failure = result.failure ?? "passed"
        #expect(failure.contains("ECONNREFUSED") || failure.contains("exited"), "\(failure)")
        #expect(failure.contains("the server exited with status 3"), "\(failure)")
    }
}

/// A TCP port on 127.0.0.1 that is bound (so nobody else gets it) but not listening, so a
/// connect to it is refused. Owns its socket; closes it in deinit.
final class BoundButNotListening {
    let fd: CInt
    let port: UInt16

    init() throws {
        let fd = socket(AF_INET, CInt(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        try #require(fd >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bind(fd, sa, length) == 0 && getsockname(fd, sa, &length) == 0
            }
        }
        if !ok { close(fd) }
        try #require(ok)
        self.fd = fd
        self.port = UInt16(bigEndian: address.sin_port)
    }

    deinit { close(fd) }
}

/// Processes in process group `group` that are still alive (zombies excluded: one whose parent
/// has not reaped it yet has already stopped running), read from /proc/PID/stat.
func liveProcesses(inGroup group: pid_t) -> [pid_t] {
    guard let directory = opendir("/proc") else { return [] }
    defer { closedir(directory) }
    var found: [pid_t] = []
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard let pid = pid_t(name) else { continue }
        let stat = readSmallFile("/proc/\(pid)/stat")
        // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after the last ')'.
        guard let close = stat.lastIndex(of: ")") else { continue }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        if fields.count > 2, fields[0] != "Z", pid_t(fields[2]) == group { found.append(pid) }
    }
    return found
}

private func readSmallFile(_ path: String) -> String {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return "" }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 4096)
    let n = read(fd, &buffer, buffer.count)
    return n > 0 ? String(decoding: buffer[..<n], as: UTF8.self) : ""
}
