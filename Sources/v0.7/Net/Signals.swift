// Signals.swift: SIGINT and SIGTERM as events on the loop, through a signalfd.
// v0.6: new.
import CLinux
import Glibc

/// Reads SIGINT and SIGTERM from a signalfd, so that a signal is one more event the loop dispatches:
/// the handler runs on the loop's thread, between two events, where it may do anything (a classic
/// signal handler may call almost nothing, and no Swift code at all). Owns the signalfd (closed in
/// deinit). Loop thread only.
///
/// PITFALL: a signalfd only reports signals that are blocked; one that is not is delivered the usual
/// way (for SIGINT and SIGTERM: the process dies), to whichever thread does not block it. So
/// `blockStopSignals()` runs first thing in main, before any thread exists, and every thread created
/// later inherits the mask (v0.7's loops, the tests' spawned servers).
/// Guarded by: the ladder's sigterm-mid-pipeline (make check 6).
public final class SignalWatcher: EventHandler {
    static let stopSignals: [CInt] = [SIGINT, SIGTERM]

    let fd: CInt
    private let onSignal: (CInt) -> Void

    /// Blocks SIGINT and SIGTERM in the calling thread (and so in every thread it creates from now on).
    public static func blockStopSignals() {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in stopSignals { sigaddset(&set, signal) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Watches SIGINT and SIGTERM on `loop`; `onSignal` gets each one's number, on the loop's thread.
    public init(loop: EventLoop, onSignal: @escaping (CInt) -> Void) throws {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in SignalWatcher.stopSignals { sigaddset(&set, signal) }
        let fd = CLinux.signalfd(-1, &set, CInt(SFD_NONBLOCK | SFD_CLOEXEC))
        if fd < 0 { throw SystemError(call: "signalfd", errno: errno) }
        self.fd = fd
        self.onSignal = onSignal
        super.init()
        try loop.register(self, fd: fd, interest: .readable)
    }

    deinit { sysClose(fd) }

    public override func handleEvent(_ events: UInt32) {
        var info = signalfd_siginfo()
        while true {                                    // every signal waiting, one siginfo each
            let count = try? withUnsafeMutableBytes(of: &info) { try sysRead(fd, into: $0) }
            guard let count, count == MemoryLayout<signalfd_siginfo>.size else { return }
            onSignal(CInt(info.ssi_signo))
        }
    }
}
