// FlagsTests.swift: the command line: defaults, every way to get it wrong, and the message each gives.
import Testing
@testable import Net_v0_7

@Suite struct FlagsTests {
    func server(_ arguments: String...) throws -> ServerOptions { try ServerOptions(arguments[...]) }

    func usageError(_ arguments: String...) -> String? {
        do {
            _ = try ServerOptions(arguments[...])
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func defaults() throws {
        #expect(try server().address.description == "127.0.0.1:7777")
        #expect(try server("--port", "0").address.port == 0)
        #expect(try server("--port=8080", "--host", "localhost").address.description == "127.0.0.1:8080")
    }

    @Test func badFlagsSayWhatIsWrongInOneLine() {
        #expect(usageError("--port", "abc") == "invalid value 'abc' for --port: expected 0...65535")
        #expect(usageError("--port", "70000") == "invalid value '70000' for --port: expected 0...65535")
        #expect(usageError("--prot", "1") == "unknown flag '--prot'")
        #expect(usageError("--port") == "--port needs a value")
        #expect(usageError("--host", "example") == "invalid value 'example' for --host: expected an IPv4 address like 127.0.0.1")
        #expect(usageError("extra") == "unexpected argument 'extra'")
    }

    @Test("an empty --port= is an error")
    func emptyValue() {
        #expect(usageError("--port=", "--host", "127.0.0.1") == "--port needs a value")
        #expect(usageError("--host=") == "--host needs a value")
    }

    @Test func clientTakesMessagesAndDemo() throws {
        let options = try ClientOptions(["--port", "9", "--demo", "hi", "--", "--not-a-flag"])
        #expect(options.demo)
        #expect(options.messages == ["hi", "--not-a-flag"])
        #expect(options.address.port == 9)
    }
}
