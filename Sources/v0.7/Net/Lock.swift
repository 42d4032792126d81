// Lock.swift: a mutex and a condition variable over pthreads, for state that threads share.
// v0.7: new.
import Glibc

/// A mutex (pthread_mutex_t). Not Synchronization's Mutex: that one is built on futexes, which
/// ThreadSanitizer cannot see, so TSan reports false races on whatever it guards (four threads adding
/// to a counter under it: "Swift access race", exit 66; the same under this lock: clean). TSan knows
/// pthread_mutex_lock and pthread_mutex_unlock, so it sees the order they put between threads.
///
/// A class, so that the mutex has one address for its whole life (a pthread mutex must not move).
/// `@unchecked Sendable`: its only state is the pthread mutex, which exists to be shared.
final class Lock: @unchecked Sendable {
    fileprivate let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with the lock held.
    func withLock<Result>(_ body: () throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}

/// A condition variable (pthread_cond_t) used with one Lock: a thread waits, inside `withLock`, until
/// another one changes what it waits for and signals. `@unchecked Sendable` for the same reason as Lock.
final class Condition: @unchecked Sendable {
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        condition.deallocate()
    }

    /// Waits for a signal. Call it with `lock` held (inside its withLock), in a loop that checks what it
    /// waits for: pthread_cond_wait may return without a signal (a spurious wakeup).
    func wait(_ lock: Lock) {
        pthread_cond_wait(condition, lock.mutex)
    }

    /// Wakes one waiting thread.
    func signal() {
        pthread_cond_signal(condition)
    }

    /// Wakes every waiting thread.
    func broadcast() {
        pthread_cond_broadcast(condition)
    }
}
