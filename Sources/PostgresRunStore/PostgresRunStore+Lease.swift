import Foundation
import PostgresNIO
import RunStore

/// Leases: how a run on one machine is known to be alive on every other.
///
/// A `running` run's row holds `lease_until`, a time on the server's clock. The store
/// that created the run renews it every ``PostgresRunStore/heartbeatPeriod`` (5 s by
/// default) to the server's now plus ``PostgresRunStore/leaseDuration`` (30 s), until the
/// run finishes. A runner that dies (killed, its machine lost, its network cut) stops
/// renewing, and the first mlpipe command on any machine after the lease ran out marks
/// the run `interrupted`: at most about 30 s after the last heartbeat. A runner cut off
/// from the database for longer than the lease is taken for dead too, by design: the
/// history cannot tell the two apart.
extension PostgresRunStore {
    /// Marks `interrupted` every `running` run, of any host, whose lease has expired, and
    /// cancels its `running` and `pending` stages, in one statement; returns their ids in
    /// increasing order.
    ///
    /// `host` and `isAlive` are not used: a pid can only be checked on its own machine,
    /// and a lease says the same for every machine. The run's `finishedAt` becomes the
    /// last time recorded for it or its stages, as in the SQLite store. Two commands that
    /// do this at once mark each run once (the second finds it no longer `running`).
    public func markInterruptedRuns(host: String, isAlive: (Int32, Int64) -> Bool) async throws(RunStoreError) -> [Int64] {
        let query = PostgresQuery(unsafeSQL: """
            WITH expired AS (
                UPDATE run SET status = 'interrupted',
                    finished_at = GREATEST(started_at, COALESCE((
                        SELECT MAX(GREATEST(COALESCE(s.started_at, 0), COALESCE(s.finished_at, 0)))
                        FROM stage AS s WHERE s.run_id = run.id
                    ), 0))
                WHERE status = 'running' AND lease_until < \(Self.serverNow)
                RETURNING id
            ), cancelled AS (
                UPDATE stage SET status = 'cancelled', error = 'run interrupted'
                WHERE run_id IN (SELECT id FROM expired) AND status IN ('running', 'pending')
            )
            SELECT id FROM expired ORDER BY id
            """)
        let operation = "mark runs whose lease expired interrupted"
        let found = try await access(operation) { try await rows(query, on: $0) }
        do {
            return try found.map { try $0.decode(Int64.self) }
        } catch {
            throw wrap(error, operation: operation)
        }
    }

    /// Renews the lease of run `runID` now: what each heartbeat does. Returns whether the
    /// run is still `running` (false once it finished, or was marked interrupted).
    @discardableResult
    public func renewLease(runID: Int64) async throws(RunStoreError) -> Bool {
        try await Self.renewLease(runID: runID, lease: leaseDuration, store: self)
    }

    static func renewLease(runID: Int64, lease: Duration, store: PostgresRunStore) async throws(RunStoreError) -> Bool {
        let query = PostgresQuery(unsafeSQL: """
            UPDATE run SET lease_until = \(serverNow) + $2 WHERE id = $1 AND status = 'running' RETURNING id
            """, binds: {
                var b = PostgresBindings(capacity: 2)
                b.append(runID)
                b.append(lease.seconds)
                return b
            }())
        return try await store.access("renew the lease of run #\(runID)") { try await store.rows(query, on: $0) }.count == 1
    }

    /// Starts renewing run `runID`'s lease every ``heartbeatPeriod``.
    ///
    /// An unstructured task, because the lease must be renewed for as long as the run
    /// lasts, across every call the engine makes; it holds the store weakly, and stops
    /// when the run finishes (``finishRun(id:status:finishedAt:)``), when the run is no
    /// longer `running` in the database, or when the store goes. A renewal that fails
    /// (the server is briefly unreachable) is retried at the next beat: only a lease left
    /// to expire has an effect, and that effect (the run found interrupted) is the
    /// truth about a runner that cannot reach the history.
    func startHeartbeat(runID: Int64) {
        let period = heartbeatPeriod, lease = leaseDuration
        let task = Task { [weak self] in
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: period)
                } catch {
                    return
                }
                guard let store = self else { return }
                do {
                    if try await PostgresRunStore.renewLease(runID: runID, lease: lease, store: store) == false { return }
                } catch {
                    continue
                }
            }
        }
        heartbeats.withLock { $0[runID] = task }
    }

    /// Stops the heartbeat of run `runID`, if this store started one.
    func stopHeartbeat(runID: Int64) {
        heartbeats.withLock { $0.removeValue(forKey: runID) }?.cancel()
    }
}
