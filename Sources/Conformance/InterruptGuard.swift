// InterruptGuard.swift: if the checker is interrupted, its servers die with it.
import Glibc
import Synchronization

/// The process groups of the servers running right now, and a signal handler that kills them.
///
/// A server runs in its own process group, so a Ctrl-C at the terminal reaches only the checker.
/// Without this guard, a checker stopped by SIGINT or SIGTERM, or by SIGPIPE when its output goes
/// into a pipe that closed (`checker ... | head -3`), would leave its server running, still holding
/// its port. (Sockets cannot raise SIGPIPE here: every send uses MSG_NOSIGNAL.) Crash signals
/// (SIGSEGV, SIGILL, ...) are left to Swift's backtracer: the checker is meant never to crash, and
/// if it does, its backtrace is worth more.
///
/// A signal handler may only do async-signal-safe things: no locks, no allocation. So the groups
/// live in a fixed table of atomics, which the handler reads with plain loads; kill(2) and
/// raise(2) are safe to call.
public enum InterruptGuard {
    /// One slot per server running at once; 0 = free. The checker runs one server at a time; tests
    /// run a few in parallel.
    private static let groups: InlineArray<64, Atomic<Int32>> = .init { _ in Atomic(0) }

    /// Installs the handler, once, from the checker's main. (Tests do not install it: a test
    /// runner has its own ideas about signals.)
    public static func install() throws {
        _ = groups[0].load(ordering: .relaxed)   // initialise the table now, never inside the handler
        try sysOnSignals([SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE]) { signal in
            for slot in InterruptGuard.groups.indices {
                let group = InterruptGuard.groups[slot].load(ordering: .relaxed)
                if group > 0 { sysKillGroupFromSignalHandler(group, SIGKILL) }
            }
            sysRaiseFromSignalHandler(signal)    // SA_RESETHAND restored the default action: die of it
        }
    }

    /// Records a server's process group. If the table is full the group is simply not guarded.
    static func remember(_ group: pid_t) {
        for slot in groups.indices {
            if groups[slot].compareExchange(expected: 0, desired: group, ordering: .relaxed).exchanged { return }
        }
    }

    static func forget(_ group: pid_t) {
        for slot in groups.indices {
            if groups[slot].compareExchange(expected: group, desired: 0, ordering: .relaxed).exchanged { return }
        }
    }
}
