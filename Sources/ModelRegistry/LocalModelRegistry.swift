import Foundation
internal import GRDB

/// The model registry in the workspace's SQLite file (`workspace/mlpipe.db`): tables
/// `model`, `model_version` and `model_alias_move`, created by the run store's migration
/// v4.
///
/// Each write is one immediate transaction, so that registering is idempotent across
/// threads, connections and processes: the write lock is taken before the package's row
/// is looked for, and `UNIQUE (name, package_digest)` backs it. Version numbers are the
/// model's highest plus one, in the same transaction.
public final class LocalModelRegistry: ModelRegistry {
    /// The database file.
    public var path: String { database.path }
    /// `local`.
    public let location = "local"
    let database: RegistryDatabase
    /// The clock, for registration and alias-move times (a test sets it).
    let now: @Sendable () -> Date

    /// Opens the registry in the SQLite file at `path` (normally `workspace/mlpipe.db`),
    /// creating and migrating the file when needed.
    ///
    /// - Parameters:
    ///   - busyTimeout: Seconds a write waits for another process's.
    ///   - now: The clock; the default is the system's.
    public init(path: String, busyTimeout: Double = 10,
                now: @escaping @Sendable () -> Date = { Date() }) throws(RegistryError) {
        database = try RegistryDatabase(path: path, busyTimeout: busyTimeout)
        self.now = now
    }

    public func register(_ registration: Registration) async throws(RegistryError) -> RegistrationResult {
        try ModelNames.checkModel(registration.name)
        try ModelNames.checkDigest(registration.packageDigest)
        let time = now()
        let metricsJSON = try RegistryColumns.json(registration.metrics)
        let lineageJSON = try RegistryColumns.json(RegistryColumns.Lineage(registration))
        return try database.write("register model '\(registration.name)'") { db in
            if let existing = try Row.fetchOne(db, sql: "SELECT * FROM model_version WHERE name = ? AND package_digest = ?",
                                               arguments: [registration.name, registration.packageDigest]) {
                let aliases = try AliasLedger.current(db, registry: location, name: registration.name)[registration.name] ?? [:]
                return RegistrationResult(version: try Self.version(from: existing, aliases: aliases), created: false)
            }
            try db.execute(sql: "INSERT OR IGNORE INTO model (name, created_at) VALUES (?, ?)",
                           arguments: [registration.name, time.timeIntervalSince1970])
            let number = try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(version), 0) + 1 FROM model_version WHERE name = ?",
                                          arguments: [registration.name]) ?? 1
            let p = registration.provenance
            try db.execute(sql: """
                INSERT INTO model_version (name, version, package_digest, image_digest, image, source, metrics_json,
                    run_id, git_commit, pipeline, stage, user, created_at, lineage_json)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [registration.name, number, registration.packageDigest, registration.imageDigest,
                                 registration.image, registration.source, metricsJSON, p.runID, p.commit ?? "",
                                 registration.pipeline, registration.stage, p.user, time.timeIntervalSince1970, lineageJSON])
            return RegistrationResult(version: ModelVersion(registration, version: number, createdAt: time), created: true)
        }
    }

    public func setAlias(_ alias: String, name: String, version: Int, by provenance: Provenance) async throws(RegistryError) -> AliasMove {
        try ModelNames.checkModel(name)
        try ModelNames.checkAlias(alias)
        let time = now()
        return try database.write("move alias '\(alias)' of model '\(name)'") { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM model_version WHERE name = ? AND version = ?",
                                    arguments: [name, version]) == true else {
                throw try unknownVersion(db, version, of: name)
            }
            return try AliasLedger.move(db, registry: location, name: name, alias: alias, version: version,
                                        provenance: provenance, at: time)
        }
    }

    public func version(name: String, version: Int) async throws(RegistryError) -> ModelVersion? {
        try database.read("read model '\(name)'") { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM model_version WHERE name = ? AND version = ?",
                                             arguments: [name, version]) else { return nil }
            return try Self.version(from: row, aliases: AliasLedger.current(db, registry: location, name: name)[name] ?? [:])
        }
    }

    public func resolve(_ reference: ModelReference) async throws(RegistryError) -> ModelVersion {
        let name = reference.name
        return try database.read("read model '\(name)'") { db in
            let aliases = try AliasLedger.current(db, registry: location, name: name)[name] ?? [:]
            let number: Int
            switch reference.selector {
            case .latest:
                guard let newest = try Int.fetchOne(db, sql: "SELECT MAX(version) FROM model_version WHERE name = ?",
                                                    arguments: [name]) else { throw try unknownModel(db, name) }
                number = newest
            case .version(let wanted):
                number = wanted
            case .alias(let alias):
                guard let target = aliases[alias] else {
                    try requireModel(db, name)
                    throw RegistryError.unknownAlias(alias, of: name, at: location, known: Array(aliases.keys))
                }
                number = target
            }
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM model_version WHERE name = ? AND version = ?",
                                             arguments: [name, number]) else {
                throw try unknownVersion(db, number, of: name)
            }
            return try Self.version(from: row, aliases: aliases)
        }
    }

    public func versions(name: String) async throws(RegistryError) -> [ModelVersion] {
        try database.read("read model '\(name)'") { db in
            try requireModel(db, name)
            let aliases = try AliasLedger.current(db, registry: location, name: name)[name] ?? [:]
            return try Row.fetchAll(db, sql: "SELECT * FROM model_version WHERE name = ? ORDER BY version",
                                    arguments: [name]).map { try Self.version(from: $0, aliases: aliases) }
        }
    }

    public func models() async throws(RegistryError) -> [ModelSummary] {
        try database.read("list models") { db in
            let aliases = try AliasLedger.current(db, registry: location, name: nil)
            return try Row.fetchAll(db, sql: """
                SELECT m.name, m.created_at, MAX(v.version) AS latest, COUNT(v.version) AS count,
                       MAX(v.created_at) AS updated_at
                FROM model AS m LEFT JOIN model_version AS v ON v.name = m.name
                GROUP BY m.name ORDER BY m.name
                """).map { row in
                let name: String = row["name"]
                let updated: Double = row["updated_at"] ?? row["created_at"]
                return ModelSummary(name: name, latestVersion: row["latest"], versionCount: row["count"],
                                    aliases: aliases[name] ?? [:], updatedAt: Date(timeIntervalSince1970: updated))
            }
        }
    }

    public func aliasHistory(name: String, alias: String) async throws(RegistryError) -> [AliasMove] {
        try database.read("read the history of alias '\(alias)' of model '\(name)'") { db in
            try AliasLedger.history(db, registry: location, name: name, alias: alias)
        }
    }

    // MARK: - Rows

    /// Throws `unknownModel` when the model has never been registered.
    private func requireModel(_ db: Database, _ name: String) throws {
        guard try Bool.fetchOne(db, sql: "SELECT 1 FROM model WHERE name = ?", arguments: [name]) == true else {
            throw try unknownModel(db, name)
        }
    }

    private func unknownModel(_ db: Database, _ name: String) throws -> RegistryError {
        RegistryError.unknownModel(name, at: location, known: try String.fetchAll(db, sql: "SELECT name FROM model"))
    }

    private func unknownVersion(_ db: Database, _ number: Int, of name: String) throws -> RegistryError {
        try requireModel(db, name)
        let known = try Int.fetchAll(db, sql: "SELECT version FROM model_version WHERE name = ? ORDER BY version",
                                     arguments: [name])
        return RegistryError.unknownVersion(number, of: name, at: location, known: known.map(String.init))
    }

    /// A `model_version` row as a version, with the aliases of its model.
    static func version(from row: Row, aliases: [String: Int]) throws -> ModelVersion {
        let number: Int = row["version"]
        let metrics = try JSONDecoder().decode([String: Double].self, from: Data((row["metrics_json"] as String).utf8))
        let lineage = try JSONDecoder().decode(RegistryColumns.Lineage.self, from: Data((row["lineage_json"] as String).utf8))
        let commit: String = row["git_commit"]
        return ModelVersion(
            name: row["name"], version: number, packageDigest: row["package_digest"], imageDigest: row["image_digest"],
            image: row["image"], source: row["source"], metrics: metrics, pipeline: row["pipeline"], stage: row["stage"],
            inputs: lineage.inputs, scanVerdict: lineage.scanVerdict, scanReportDigest: lineage.scanReportDigest,
            provenance: Provenance(runID: row["run_id"], commit: commit.isEmpty ? nil : commit, user: row["user"]),
            createdAt: Date(timeIntervalSince1970: row["created_at"]),
            aliases: aliases.filter { $0.value == number }.keys.sorted())
    }
}
