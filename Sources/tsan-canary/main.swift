// main.swift: tsan-canary, four threads adding to one counter, for proving that ThreadSanitizer runs.
//
//     tsan-canary race      no lock at all: a data race, which TSan must report (exit 66)
//     tsan-canary pthread   under a pthread mutex: no race, and TSan sees the lock (exit 0)
//     tsan-canary mutex     under Synchronization's Mutex: no race either, but TSan cannot see the
//                           futex it is built on, and reports one anyway (exit 66), when the
//                           threads contend: Mutex's uncontended lock and unlock are atomics TSan
//                           sees, and only a thread handed the lock in the kernel takes it unseen.
//                           Measured under TSan: 20 of 20 runs reported on two free cores, 11 of 20
//                           with `taskset -c 0`, where the threads may run one after another.
//
// Built without --sanitize=thread, every mode exits 0: nothing watches. `make sanitize` runs the
// race mode after the TSan tests and fails unless TSan reports it (Tests/v0.7/ThreadSanitizerTests.swift
// runs all three, and checks each outcome when the tests themselves run under TSan).
import Glibc
import Synchronization

/// The counter the threads share, and how they add to it. `@unchecked Sendable`: the point of this
/// program is to break that promise in one mode (`race`) and keep it in the others.
final class Shared: @unchecked Sendable {
    let mode: String
    var count = 0
    let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    let mutex = Mutex<Int>(0)

    init(mode: String) {
        self.mode = mode
        pthread_mutex_init(lock, nil)
    }

    deinit {
        pthread_mutex_destroy(lock)
        lock.deallocate()       // (left allocated, AddressSanitizer's leak check fails the run)
    }

    /// One thread's part: 10,000 additions.
    func add() {
        for _ in 0..<10_000 {
            switch mode {
            case "race":
                count += 1
            case "pthread":
                pthread_mutex_lock(lock)
                count += 1
                pthread_mutex_unlock(lock)
            default:
                mutex.withLock { $0 += 1 }
            }
        }
    }

    var total: Int { mode == "mutex" ? mutex.withLock { $0 } : count }
}

/// Four threads each call `shared.add()`; returns the total. (A function, not top-level code: that
/// runs on the main actor, and a closure written there would be checked to run on it too.)
func run(_ shared: Shared) -> Int {
    var threads: [pthread_t] = []
    for _ in 0..<4 {
        var thread = pthread_t()
        let context = Unmanaged.passRetained(shared).toOpaque()
        let started = pthread_create(&thread, nil, { context in
            Unmanaged<Shared>.fromOpaque(context!).takeRetainedValue().add()
            return nil
        }, context)
        precondition(started == 0)
        threads.append(thread)
    }
    for thread in threads { pthread_join(thread, nil) }
    return shared.total
}

let mode = CommandLine.arguments.dropFirst().first ?? ""
guard ["race", "pthread", "mutex"].contains(mode) else {
    let line = "usage: tsan-canary race|pthread|mutex\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    exit(2)
}
print("\(mode): \(run(Shared(mode: mode))) of 40000")
