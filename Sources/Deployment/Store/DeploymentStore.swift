import Foundation
internal import GRDB
import RunStore

/// The deployments in the workspace's SQLite file (`workspace/mlpipe.db`): the
/// `deployment` table, created by the run store's migration v5.
///
/// Opened the way the model registry opens the same file: after `SQLiteRunStore` has
/// brought it to the current schema, with a busy timeout, each write one immediate
/// transaction. Errors keep SQLite's message and never a statement's arguments.
public final class DeploymentStore: Sendable {
    /// The file.
    public let path: String
    /// The connection, shared in kind with the model registry's.
    let database: WorkspaceDatabase
    var busyTimeout: Double { database.busyTimeout }

    /// Opens (creating and migrating when needed) the file at `path`.
    public init(path: String, busyTimeout: Double = 10) throws(DeploymentError) {
        self.path = path
        do {
            database = try WorkspaceDatabase(path: path, busyTimeout: busyTimeout, label: "mlpipe.Deployment")
        } catch {
            throw DeploymentError(.database, "cannot open the deployments in \(path): \(error.reason)",
                                  remedy: error.remedy, cause: error)
        }
    }

    /// Records a new deployment (its `id` is ignored) and returns it with its id.
    public func insert(_ record: DeploymentRecord) throws(DeploymentError) -> DeploymentRecord {
        // A cluster deployment has no launch: the column (NOT NULL) then holds JSON `null`.
        let launch = try record.launch.map { value throws(DeploymentError) in try Self.json(value) } ?? "null"
        let smoke = try record.smoke.map { value throws(DeploymentError) in try Self.json(value) }
        return try write("record deployment '\(record.name)'") { db in
            try db.execute(sql: """
                INSERT INTO deployment (name, target, model, version, endpoint, status, pid, pid_start_time, host,
                    folder, log_path, alias, alias_was, replaces, run_id, stage, created_at, stopped_at, smoke_json,
                    launch_json)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [record.name, record.target, record.model, record.version,
                                 record.endpoint.description, record.status.rawValue, record.pid, record.pidStartTime,
                                 record.host, record.folder, record.logPath, record.alias, record.aliasWas,
                                 record.replaces, record.runID, record.stage, record.createdAt.timeIntervalSince1970,
                                 record.stoppedAt?.timeIntervalSince1970, smoke, launch])
            var inserted = record
            inserted.id = db.lastInsertedRowID
            return inserted
        }
    }

    /// Sets a deployment's status; a status that ends it also records `stoppedAt`.
    public func setStatus(_ status: DeploymentStatus, of id: Int64, at time: Date = Date()) throws(DeploymentError) {
        try write("update deployment #\(id)") { db in
            try db.execute(sql: "UPDATE deployment SET status = ?, stopped_at = ? WHERE id = ?",
                           arguments: [status.rawValue, status.isEnded ? time.timeIntervalSince1970 : nil, id])
        }
    }

    /// Records the process of a deployment started again (`deployments rollback`).
    public func setProcess(of id: Int64, pid: Int32, startTime: Int64, status: DeploymentStatus) throws(DeploymentError) {
        try write("update deployment #\(id)") { db in
            try db.execute(sql: "UPDATE deployment SET pid = ?, pid_start_time = ?, status = ?, stopped_at = NULL "
                           + "WHERE id = ?", arguments: [pid, startTime, status.rawValue, id])
        }
    }

    /// Records a smoke test's conclusion.
    public func recordSmoke(_ outcome: SmokeVerdict, of id: Int64) throws(DeploymentError) {
        let json = try Self.json(outcome)
        try write("record the smoke test of deployment #\(id)") { db in
            try db.execute(sql: "UPDATE deployment SET smoke_json = ? WHERE id = ?", arguments: [json, id])
        }
    }

    /// One deployment, or nil.
    public func record(id: Int64) throws(DeploymentError) -> DeploymentRecord? {
        try read("read deployment #\(id)") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM deployment WHERE id = ?", arguments: [id]).map(Self.record(from:))
        }
    }

    /// Every deployment, oldest first; only those of `name` when given.
    public func list(name: String? = nil) throws(DeploymentError) -> [DeploymentRecord] {
        try read("list deployments") { db in
            let rows = if let name {
                try Row.fetchAll(db, sql: "SELECT * FROM deployment WHERE name = ? ORDER BY id", arguments: [name])
            } else {
                try Row.fetchAll(db, sql: "SELECT * FROM deployment ORDER BY id")
            }
            return try rows.map(Self.record(from:))
        }
    }

    /// The deployments of one model version, oldest first (`models lineage`).
    public func deployments(model: String, version: Int) throws(DeploymentError) -> [DeploymentRecord] {
        try read("list the deployments of \(model)@\(version)") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM deployment WHERE model = ? AND version = ? ORDER BY id",
                             arguments: [model, version]).map(Self.record(from:))
        }
    }

    /// The newest deployment at `endpoint` that should be running, or nil: how a smoke
    /// test finds what it tests.
    public func running(at endpoint: ServiceEndpoint) throws(DeploymentError) -> DeploymentRecord? {
        try read("find the deployment at \(endpoint)") { db in
            try Row.fetchOne(db, sql: """
                SELECT * FROM deployment WHERE endpoint = ? AND status IN ('starting', 'candidate', 'serving')
                ORDER BY id DESC LIMIT 1
                """, arguments: [endpoint.description]).map(Self.record(from:))
        }
    }

    /// The names that have deployments, sorted (for a did-you-mean).
    public func names() throws(DeploymentError) -> [String] {
        try read("list deployment names") { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT name FROM deployment ORDER BY name")
        }
    }

    // MARK: - Rows

    static func record(from row: Row) throws -> DeploymentRecord {
        let endpointText: String = row["endpoint"]
        let statusText: String = row["status"]
        let id: Int64 = row["id"]
        guard let status = DeploymentStatus(rawValue: statusText) else {
            throw DeploymentError(.database, "deployment #\(id) has status '\(statusText)', which this mlpipe does not know",
                                  remedy: "a newer mlpipe wrote it; use that version")
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        let launchText: String = row["launch_json"]
        let launch = launchText == "null" ? nil : try decoder.decode(LaunchSpec.self, from: Data(launchText.utf8))
        let smoke = try (row["smoke_json"] as String?).map { try decoder.decode(SmokeVerdict.self, from: Data($0.utf8)) }
        return DeploymentRecord(
            id: id, name: row["name"], target: row["target"], model: row["model"], version: row["version"],
            endpoint: try ServiceEndpoint(parsing: endpointText), status: status, pid: row["pid"],
            pidStartTime: row["pid_start_time"], host: row["host"], folder: row["folder"], logPath: row["log_path"],
            alias: row["alias"], aliasWas: row["alias_was"], replaces: row["replaces"], runID: row["run_id"],
            stage: row["stage"], createdAt: Date(timeIntervalSince1970: row["created_at"]),
            stoppedAt: (row["stopped_at"] as Double?).map(Date.init(timeIntervalSince1970:)), smoke: smoke,
            launch: launch)
    }

    /// JSON with sorted keys, as the columns hold it.
    static func json<T: Encodable>(_ value: T) throws(DeploymentError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .secondsSince1970
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            throw DeploymentError(.database, "cannot encode a deployment's record: \(error)", remedy: "report this bug")
        }
    }

    // MARK: - Transactions

    private func write<T>(_ operation: @autoclosure () -> String, _ body: (Database) throws -> T) throws(DeploymentError) -> T {
        do { return try database.write(body) } catch { throw wrap(error, operation()) }
    }

    private func read<T>(_ operation: @autoclosure () -> String, _ body: (Database) throws -> T) throws(DeploymentError) -> T {
        do { return try database.read(body) } catch { throw wrap(error, operation()) }
    }

    /// A `DeploymentError` as it is, SQLite's errors as the run store words them (never a
    /// statement's arguments), anything else as a row this mlpipe cannot read.
    func wrap(_ error: any Error, _ operation: String) -> DeploymentError {
        if let error = error as? DeploymentError { return error }
        if let error = error as? EndpointError {
            return DeploymentError(.database, "cannot \(operation): a stored endpoint is damaged (\(error))",
                                   remedy: "a hand edit of \(path) broke it; fix the row or remove it")
        }
        if let failure = database.failure(error, operation: operation) ?? (error as? RunStoreError) {
            return DeploymentError(.database, "cannot \(operation) in \(path): \(failure.reason)", remedy: failure.remedy,
                                   cause: failure)
        }
        return DeploymentError(.database, "cannot \(operation) in \(path): \(error)",
                               remedy: "a newer mlpipe, or a hand edit, wrote a row this one cannot read")
    }
}
