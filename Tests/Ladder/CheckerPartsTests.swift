// CheckerPartsTests.swift: the checker's own pieces, without a server: frames, addresses, flags, report.
import Conformance
import Glibc
import Testing

@Suite struct CheckerPartsTests {
    @Test func frameHeaderIsBigEndian() {
        let frame = Frame(msgid: 0x0102_0304, payload: [0xAA, 0xBB])
        #expect(frame.encoded == [1, 2, 3, 4, 0, 0, 0, 2, 0xAA, 0xBB])
        let header = Frame.decodeHeader(frame.encoded)
        #expect(header?.msgid == 0x0102_0304 && header?.length == 2)
        #expect(Frame.decodeHeader([1, 2, 3]) == nil)
    }

    @Test func readyLineIsFoundAnywhereInALine() {
        #expect(ServerAddress(readyLine: "listening on 127.0.0.1:41233") == ServerAddress("127.0.0.1:41233"))
        #expect(ServerAddress(readyLine: "12:00:01 INFO listening on 127.0.0.1:7 (pid 3)")?.port == 7)
        #expect(ServerAddress(readyLine: "listening on 127.0.0.1:0") == nil)
        #expect(ServerAddress(readyLine: "listening on example.com:80") == nil)
        #expect(ServerAddress(readyLine: "starting up") == nil)
    }

    @Test func badFlagsAreUsageErrors() {
        #expect(throws: UsageError.self) { try CheckerOptions(arguments: ["--stage", "2"]) }
        #expect(throws: UsageError.self) { try CheckerOptions(arguments: ["--stage", "x", "--server", "s"]) }
        #expect(throws: UsageError.self) { try CheckerOptions(arguments: ["--stage", "1", "--server", "s", "--only", "frame-oversize"]) }
        #expect(throws: UsageError.self) { try CheckerOptions(arguments: ["--stage", "2", "--connect", "nowhere"]) }
        #expect(throws: UsageError.self) { try CheckerOptions(arguments: ["--stage"]) }
        #expect(throws: UsageError.self) { try CheckerOptions(arguments: ["--list=yes"]) }
    }

    @Test("an empty --name= is an error, not a request for the next argument")
    func emptyEqualsValue() throws {
        #expect(throws: UsageError.self) { try Flags(["--port=", "--size", "64"], valued: ["port", "size"]) }
        let flags = try Flags(["--port=7", "--size", "64", "word"], valued: ["port", "size"])
        #expect(flags.string("port") == "7" && flags.string("size") == "64" && flags.positionals == ["word"])
        #expect(try CheckerOptions(arguments: ["--stage=3", "--server=s -x"]).stage == 3)
    }

    @Test func flagsParse() throws {
        let options = try CheckerOptions(arguments: ["--stage", "v0.2", "--connect", "127.0.0.1:7777", "--max-frame", "4096",
                                                     "--only", "echo-1-byte,frame-oversize", "--verbose"])
        #expect(options.stage == 2 && options.maxFrame == 4096 && options.verbose)
        #expect(options.selected.map(\.id) == ["echo-1-byte", "frame-oversize"])
    }

    @Test func everyStageHasBehavioursAndIdsAreUnique() {
        let ids = Ladder.behaviours.map(\.id)
        #expect(Set(ids).count == ids.count)
        // v0.4 adds none: its lesson is the client, and its server serves as v0.3's does.
        for stage in 1...Ladder.lastStage where stage != 4 { #expect(Ladder.behaviours.contains { $0.stage == stage }, "stage \(stage)") }
        #expect(Ladder.behaviours.map(\.stage) == Ladder.behaviours.map(\.stage).sorted(), "the ladder runs in stage order")
    }

    @Test("a spawned server inherits no descriptor")
    func spawnedChildInheritsNothing() throws {
        let leaky = open("/dev/null", O_RDONLY)              // no O_CLOEXEC: a child would inherit it
        try #require(leaky > 2)
        defer { _ = close(leaky) }
        let result = try runCommand("ls /proc/self/fd")
        // 0, 1, 2, and the directory ls itself opened to list them.
        #expect(result.status == .exited(0))
        #expect(!result.lines.contains(String(leaky)), "the child inherited fd \(leaky): \(result.lines)")
        #expect(result.lines.count <= 4, "\(result.lines)")
    }
}
