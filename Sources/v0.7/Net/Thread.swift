// Thread.swift: starting and joining a pthread that runs a Swift closure.
// v0.7: new.
import Glibc

/// A thread started by `Thread.start`. Joined once, by whoever started it.
struct Thread: @unchecked Sendable {   // a pthread_t is an integer: a thread id, safe to pass on
    let id: pthread_t

    /// Starts a thread that runs `body`, then ends. The new thread inherits the signal mask of the
    /// thread that starts it: SIGINT and SIGTERM stay blocked in every thread (main.swift blocks them
    /// first, before any thread exists), so only the signalfd sees them.
    static func start(_ body: @escaping @Sendable () -> Void) -> Thread {
        // The closure travels to the new thread as a retained pointer: the thread takes it back
        // (takeRetainedValue), so it is released once that thread is done with it.
        let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        var id = pthread_t()
        let error = pthread_create(&id, nil, { context in
            Unmanaged<ThreadBody>.fromOpaque(context!).takeRetainedValue().body()
            return nil
        }, context)
        // EAGAIN: out of threads or memory at start-up; a server without its threads cannot serve.
        precondition(error == 0, "pthread_create failed: \(errnoName(error))")
        return Thread(id: id)
    }

    /// Waits for the thread to end.
    func join() {
        pthread_join(id, nil)
    }
}

private final class ThreadBody {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}
