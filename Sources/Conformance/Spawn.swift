// Spawn.swift: start a shell command as the leader of a new process group, its output into a pipe.
import CLinux
import Glibc
import Synchronization

/// Serialises "make a pipe, mark it close-on-exec" against posix_spawn (see `sysPipe`): a spawn
/// can then never run between the two and leak a fresh pipe into the wrong child.
private let spawnLock = Mutex(())

/// Runs `/bin/sh -c "exec <command>"` with posix_spawn. Returns the child's pid, which is also the
/// id of its new process group, and the non-blocking read end of a pipe that carries both its
/// stdout and stderr (so the ready line is found whichever it is printed on). stdin is /dev/null.
///
/// Why posix_spawn and not fork: forking a multi-threaded process (the test runner always is, and
/// Swift may start threads behind our back) copies only the calling thread, and the child may then
/// deadlock on a lock another thread held; posix_spawn's child runs nothing but exec.
///
/// Why a new process group (POSIX_SPAWN_SETPGROUP with group 0): the command may start helpers
/// (a shell pipeline, a master with workers). kill(-pid) then stops all of them at once, and a
/// Ctrl-C at the terminal, which signals the checker's group, does not reach the server first.
///
/// `exec` makes the shell replace itself with the server, so the pid we wait for is the server's.
///
/// With `fdLimit`, the command line is `ulimit -n N && exec <command>`: the shell lowers its own
/// soft and hard RLIMIT_NOFILE, which exec keeps, so the server starts with at most N fds. The
/// shell does it, not posix_spawn (which has no rlimit attribute) and not setrlimit in the checker
/// (which would lower the checker's own limit, and that of every test running beside it).
func spawnInNewProcessGroup(command: String, fdLimit: Int? = nil) throws -> (pid: pid_t, output: CInt) {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }

    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    posix_spawnattr_setpgroup(&attributes, 0)
    // A signal the checker ignores or blocks would stay ignored or blocked in the server (exec
    // keeps both). Give the server the defaults it would get from a shell.
    var noSignals = sigset_t()
    sigemptyset(&noSignals)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for signal in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD] { sigaddset(&defaults, signal) }
    posix_spawnattr_setsigdefault(&attributes, &defaults)

    let limit = fdLimit.map { "ulimit -n \($0) && " } ?? ""
    let arguments = ["/bin/sh", "-c", limit + "exec " + command]
    let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
    defer { for argument in argv { free(argument) } }

    return try spawnLock.withLock { _ in
        let pipe = try sysPipe()
        // PITFALL: keep our copy of the write end open and the pipe never reports end-of-file,
        // even after the server has exited: a pipe ends when its last writer closes.
        defer { sysClose(pipe.write) }
        do {
            try sysSetNonBlocking(pipe.read)
        } catch {
            sysClose(pipe.read)
            throw error
        }
        // Best effort: 64 KiB (the default) still works, with less room for a chatty server.
        try? sysSetPipeSize(pipe.read, bytes: 1 << 20)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipe.write, 1)   // dup2 clears close-on-exec on the copy
        posix_spawn_file_actions_adddup2(&actions, pipe.write, 2)
        // PITFALL: a child inherits every descriptor not marked close-on-exec. The tests run in
        // parallel in one process, and their own sockets (v0.1's have no SOCK_CLOEXEC) would live on
        // in a server another test starts: closing such a socket in the test would not close the
        // connection, and its server would wait for an end of stream that never comes.
        // Guarded by: Tests/Ladder/CheckerPartsTests.swift "a spawned server inherits no descriptor".
        posix_spawn_file_actions_addclosefrom_np(&actions, 3)

        var pid: pid_t = 0
        // posix_spawn returns the error number instead of setting errno.
        let err = posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, environ)
        if err != 0 {
            sysClose(pipe.read)
            throw SystemError(call: "posix_spawn", errno: err)
        }
        return (pid, pipe.read)
    }
}
