// LoadGeneratorTests.swift: the load generator against real servers: the C reference answers every
// request; a blocking server answers one connection; a server that answers something else is caught.
@testable import Benchmark
import Conformance
import Glibc
import Testing

@Suite(.timeLimit(.minutes(5))) struct LoadGeneratorTests {
    func start(_ product: String, flags: String = "") throws -> ServerProcess {
        let binary = try #require(builtProduct(product), "\(product) is not built (swift build)")
        return try ServerProcess.start(command: shellQuoted(binary) + " " + flags, readyTimeout: .seconds(10))
    }

    @Test("against the C reference: every round trip counted, checked and answered")
    func countedRun() throws {
        let server = try start("c-echo-server")
        defer { server.stop() }
        var plan = LoadPlan(address: server.address, connections: 10)
        plan.pipeline = 3
        plan.payloadSize = 1000
        plan.serverPID = server.pid
        let generator = try LoadGenerator(plan: plan)
        #expect(generator.connect() == 10)
        let result = generator.run(requestsPerConnection: 100, timeout: .seconds(20))
        #expect(result.replies == 1000)
        #expect(result.replyBytes == 1000 * 1008)
        #expect(result.errors == 0, "\(generator.firstErrors)")
        #expect(result.answeringConnections == 10)
        #expect(result.latency.count == 1000)
        #expect(result.serverCPU != nil)
    }

    @Test("against the C reference with 16 KiB frames, timed: no errors, replies counted")
    func timedRun() throws {
        let server = try start("c-echo-server")
        defer { server.stop() }
        var plan = LoadPlan(address: server.address, connections: 5)
        plan.payloadSize = 16384
        let generator = try LoadGenerator(plan: plan)
        generator.connect()
        let result = generator.run(warmUp: .milliseconds(50), measure: .milliseconds(300))
        #expect(result.replies > 0)
        #expect(result.errors == 0, "\(generator.firstErrors)")
        #expect(result.answeringConnections == 5)
        #expect(result.elapsed >= .milliseconds(300))
    }

    @Test("a blocking server answers one connection of five, and the result says so")
    func blockingServer() throws {
        let server = try start("v0.1-server")
        defer { server.stop() }
        let generator = try LoadGenerator(plan: LoadPlan(address: server.address, connections: 5))
        #expect(generator.connect() == 5)
        let result = generator.run(warmUp: .zero, measure: .milliseconds(300))
        #expect(result.replies > 0)
        #expect(result.answeringConnections == 1)
        #expect(result.connections == 5)
    }

    @Test("an error frame instead of the echo is a wrong reply, and only that connection ends")
    func wrongReplyEndToEnd() throws {
        // v0.2 answers a frame over --max-frame with an error frame (msgid 0) and closes.
        let server = try start("v0.2-server", flags: "--max-frame 16")
        defer { server.stop() }
        var plan = LoadPlan(address: server.address, connections: 1)
        plan.payloadSize = 64
        let generator = try LoadGenerator(plan: plan)
        #expect(generator.connect() == 1)
        let result = generator.run(requestsPerConnection: 1, timeout: .seconds(5))
        #expect(result.replies == 0)
        #expect(result.wrongReplies == 1, "\(generator.firstErrors)")
    }

    @Test("a refused connection is counted and named")
    func refused() throws {
        // A port that was just free: the server is stopped before connecting.
        let server = try start("c-echo-server")
        let address = server.address
        server.stop()
        let generator = try LoadGenerator(plan: LoadPlan(address: address, connections: 2))
        #expect(generator.connect() == 0)
        #expect(generator.firstErrors.contains { $0.contains("ECONNREFUSED") }, "\(generator.firstErrors)")
    }

    @Test("bench-conns' measurement: every idle connection held and answering")
    func capacity() throws {
        let target = try #require(try? BenchTarget.reference())
        let result = try ConnectionCapacity.measure(target, connections: 300, logDirectory: scratchDirectory())
        #expect(result.established == 300)
        #expect(result.answered == 300)
        #expect(result.serverFDs >= 300)
    }
}

/// A fresh directory for server logs, under /tmp.
func scratchDirectory() throws -> String {
    var template = Array("/tmp/bench-tests-XXXXXX".utf8CString)
    let path = try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) })
    return String(cString: path)
}
