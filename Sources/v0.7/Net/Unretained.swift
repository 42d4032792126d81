// Unretained.swift: a reference that does not keep its object alive, checked in debug builds only.
// v0.3: new: how a connection holds its server.
// v0.4: how a connection holds its owner, either kind (ConnectionOwner).

/// A reference to an object that outlives whoever holds it by design (a connection's server: see
/// TCPConnection), so it needs no retain: release builds store it `unowned(unsafe)`, with no check at
/// all (plain `unowned` costs an atomic retain and release on every use).
/// PITFALL: unchecked, a use after the object is gone reads freed memory and may go unnoticed. Debug
/// builds store it `unowned`: there, such a use traps.
/// Guarded by: Tests/v0.N/EventLoopTests.swift "a connection whose owner is gone traps in a debug build".
struct Unretained<Object: AnyObject> {
    #if DEBUG
    unowned let object: Object
    #else
    unowned(unsafe) let object: Object
    #endif

    init(_ object: Object) { self.object = object }

    /// Calls `body` with the object, not retained for the call either. Called directly, an unretained
    /// reference is retained and released around each call: 47 of 168 instructions per round trip on
    /// the echo path (make bench-instr 3).
    @inline(__always)
    func call<Result>(_ body: (Object) -> Result) -> Result {
        Unmanaged.passUnretained(object)._withUnsafeGuaranteedRef(body)
    }
}
