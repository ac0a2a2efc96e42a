extension ProcessIdentity {
    /// The start time of process `pid` (field 22 of `/proc/<pid>/stat`), or nil when no
    /// such process runs; 0 where the system does not say (macOS).
    ///
    /// What a record of another process (a deployed service) keeps beside its pid, so that
    /// `isAlive(pid:startTime:)` can tell it from a later process given the same number.
    public static func startTime(of pid: Int32) -> Int64? {
        #if os(Linux)
        return stat(pid: pid)?.startTime
        #else
        return isAlive(pid: pid, startTime: 0) ? 0 : nil
        #endif
    }
}
