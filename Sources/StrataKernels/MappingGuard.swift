import CStrataKernels

/// Turns a SIGBUS on a memory-mapped file (the file shrank while mapped) into a one-line message
/// on stderr and exit code 74 (EX_IOERR), instead of a crash. See `strata_mapguard_register`.
public enum MappingGuard {
    /// Guards [base, base + length) until `unregister`; returns the slot (-1: not guarded, all
    /// slots in use).
    public static func register(base: UnsafeRawPointer, length: Int, message: String) -> Int32 {
        strata_mapguard_register(base, Int64(length), message)
    }

    /// Ends the guard of `slot` (call before unmapping).
    public static func unregister(_ slot: Int32) { strata_mapguard_unregister(slot) }
}
