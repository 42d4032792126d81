// RouterTests.swift: the table from msgid to Route: one registration per msgid, counted requests.
import Testing
@testable import Net_v0_7

@Suite struct RouterTests {
    @Test("registering a msgid twice is an error")
    func duplicateRegistration() throws {
        var router = Router()
        try router.register(7, .echo)
        #expect(throws: RouterError.duplicate(msgid: 7)) { try router.register(7, .handler { _, _ in }) }
        #expect(router.kind(7) == .echo)                      // the first registration stands
        // The server registers 1 (echo) and 2 (stats) itself: a second one is refused there too.
        let server = try EchoServer(address: SocketAddress(host: "127.0.0.1", port: 0)!)
        #expect(throws: RouterError.duplicate(msgid: 1)) { try server.register(1, .echo) }
    }

    @Test("msgid 0 and msgids past the table cannot be registered")
    func outOfRange() {
        var router = Router()
        #expect(throws: RouterError.outOfRange(msgid: 0)) { try router.register(0, .echo) }
        #expect(throws: RouterError.outOfRange(msgid: Router.highestMsgid + 1)) { try router.register(Router.highestMsgid + 1, .echo) }
        #expect(router.msgids.isEmpty)
    }

    @Test("each request is counted under its msgid, the unrouted ones together")
    func countsRequests() throws {
        var router = Router()
        try router.register(1, .echo)
        try router.register(5, .handler { _, _ in })
        #expect(router.route(1) == .echo)
        #expect(router.route(1) == .echo)
        #expect(router.route(5) == .handler)
        #expect(router.route(6) == .none)
        #expect(router.route(.max) == .none)                  // past the table: no slot of its own
        #expect(router.requests(1) == 2 && router.requests(5) == 1)
        #expect(router.requestsTotal == 5 && router.requestsUnrouted == 2 && router.requestsEchoed == 2)
        #expect(router.msgids == [1, 5])
    }
}
