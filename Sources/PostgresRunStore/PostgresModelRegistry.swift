import Foundation
import ModelRegistry
import PostgresNIO
import RunStore
import Synchronization

/// The model registry on the shared PostgreSQL store: the twin of `LocalModelRegistry`,
/// on the same tables (`model`, `model_version`, `model_alias_move`, migration v4 of
/// ``PostgresSchema``), so that every runner and engineer whose `MLPIPE_STORE` names the
/// server sees one registry.
///
/// It keeps `LocalModelRegistry`'s contract, and its rows read the same:
/// - `register` runs in one transaction that first takes a transaction-level advisory
///   lock on the model's name, so of two runners that register one package at once the
///   second waits, then finds the first one's row (`created` false);
///   `UNIQUE (name, package_digest)` backs it. A new version is the model's highest plus
///   one, from 1.
/// - `setAlias` takes the same lock, so that "already points there" is decided on the
///   newest move; every move is appended to `model_alias_move` with its provenance.
/// - Reads are one `REPEATABLE READ` transaction each: one consistent snapshot.
///
/// ``location`` is `local`, as for the SQLite registry: this is the workspace's registry
/// (a register stage's `backend: local`), kept in the shared store, and its alias moves
/// are recorded under `registry = 'local'` like the SQLite file's. Errors name the
/// server by its URL without the password, never a statement's values.
public final class PostgresModelRegistry: ModelRegistry {
    /// `local`: the backend, as alias moves record it.
    public let location = "local"
    /// The store whose connections the registry uses.
    public let store: PostgresRunStore
    /// The clock, for registration and alias-move times (a test sets it).
    let now: @Sendable () -> Date
    /// Whether the database is known to be migrated; if not, the first call migrates it.
    let migrated: Mutex<Bool>

    /// The registry in `store`'s database (already migrated by `PostgresRunStore.open`).
    ///
    /// - Parameter now: The clock; the default is the system's.
    public init(store: PostgresRunStore, now: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.now = now
        migrated = Mutex(true)
    }

    /// The registry at `location`, connecting (and migrating the database when needed) on
    /// its first call: what a synchronous caller, such as a stage kind's registry opener,
    /// can make.
    public init(location: PostgresLocation, now: @escaping @Sendable () -> Date = { Date() }) {
        store = PostgresRunStore(location: location)
        self.now = now
        migrated = Mutex(false)
    }

    /// Connects to `location`, bringing its database to the current schema, and returns
    /// the registry in it.
    public static func open(_ location: PostgresLocation,
                            now: @escaping @Sendable () -> Date = { Date() }) async throws(RegistryError) -> PostgresModelRegistry {
        do {
            return PostgresModelRegistry(store: try await PostgresRunStore.open(location), now: now)
        } catch {
            throw RegistryError(.database, "cannot open the model registry in \(location.redacted): \(error.reason)",
                                remedy: error.remedy, cause: error)
        }
    }

    public func register(_ registration: Registration) async throws(RegistryError) -> RegistrationResult {
        try ModelNames.checkModel(registration.name)
        try ModelNames.checkDigest(registration.packageDigest)
        let time = now()
        let metricsJSON = try RegistryColumns.json(registration.metrics)
        let lineageJSON = try RegistryColumns.json(RegistryColumns.Lineage(registration))
        let name = registration.name
        return try await write("register model '\(name)'", name: name) { connection in
            let existing = try await self.rows("""
                SELECT \(unescaped: Self.versionColumns) FROM model_version
                WHERE name = \(name) AND package_digest = \(registration.packageDigest)
                """, on: connection)
            if let row = existing.first {
                let aliases = try await self.currentAliases(on: connection, name: name)[name] ?? [:]
                return RegistrationResult(version: try Self.version(from: row, aliases: aliases), created: false)
            }
            try await self.execute("""
                INSERT INTO model (name, created_at) VALUES (\(name), \(time.timeIntervalSince1970))
                ON CONFLICT (name) DO NOTHING
                """, on: connection)
            let highest = try await self.rows(
                "SELECT COALESCE(MAX(version), 0) + 1 FROM model_version WHERE name = \(name)", on: connection)
            let number = Int(try highest.first?.decode(Int64.self) ?? 1)
            let p = registration.provenance
            try await self.execute("""
                INSERT INTO model_version (\(unescaped: Self.versionColumns))
                VALUES (\(name), \(Int64(number)), \(registration.packageDigest), \(registration.imageDigest), \
                \(registration.image), \(registration.source), \(metricsJSON), \(p.runID), \(p.commit ?? ""), \
                \(registration.pipeline), \(registration.stage), \(p.user), \(time.timeIntervalSince1970), \(lineageJSON))
                """, on: connection)
            return RegistrationResult(version: ModelVersion(registration, version: number, createdAt: time), created: true)
        }
    }

    public func setAlias(_ alias: String, name: String, version: Int, by provenance: Provenance) async throws(RegistryError) -> AliasMove {
        try ModelNames.checkModel(name)
        try ModelNames.checkAlias(alias)
        let time = now()
        return try await write("move alias '\(alias)' of model '\(name)'", name: name) { connection in
            let found = try await self.rows(
                "SELECT 1 FROM model_version WHERE name = \(name) AND version = \(Int64(version))", on: connection)
            if found.isEmpty { throw try await self.unknownVersion(on: connection, version, of: name) }
            if let current = try await self.history(on: connection, name: name, alias: alias).last,
               current.version == version {
                return current
            }
            try await self.execute("""
                INSERT INTO model_alias_move (registry, name, alias, version, moved_at, run_id, git_commit, "user")
                VALUES (\(self.location), \(name), \(alias), \(Int64(version)), \(time.timeIntervalSince1970), \
                \(provenance.runID), \(provenance.commit), \(provenance.user))
                """, on: connection)
            return AliasMove(name: name, alias: alias, version: version, movedAt: time, provenance: provenance)
        }
    }

    public func version(name: String, version: Int) async throws(RegistryError) -> ModelVersion? {
        try await read("read model '\(name)'") { connection in
            let found = try await self.rows("""
                SELECT \(unescaped: Self.versionColumns) FROM model_version WHERE name = \(name) AND version = \(Int64(version))
                """, on: connection)
            guard let row = found.first else { return nil }
            return try Self.version(from: row, aliases: try await self.currentAliases(on: connection, name: name)[name] ?? [:])
        }
    }

    public func resolve(_ reference: ModelReference) async throws(RegistryError) -> ModelVersion {
        let name = reference.name
        return try await read("read model '\(name)'") { connection in
            let aliases = try await self.currentAliases(on: connection, name: name)[name] ?? [:]
            let number: Int
            switch reference.selector {
            case .latest:
                let newest = try await self.rows("SELECT MAX(version) FROM model_version WHERE name = \(name)", on: connection)
                guard let value = try newest.first?.decode(Int64?.self) else {
                    throw try await self.unknownModel(on: connection, name)
                }
                number = Int(value)
            case .version(let wanted):
                number = wanted
            case .alias(let alias):
                guard let target = aliases[alias] else {
                    try await self.requireModel(on: connection, name)
                    throw self.unknownAlias(alias, of: name, known: Array(aliases.keys))
                }
                number = target
            }
            let found = try await self.rows("""
                SELECT \(unescaped: Self.versionColumns) FROM model_version WHERE name = \(name) AND version = \(Int64(number))
                """, on: connection)
            guard let row = found.first else { throw try await self.unknownVersion(on: connection, number, of: name) }
            return try Self.version(from: row, aliases: aliases)
        }
    }

    public func versions(name: String) async throws(RegistryError) -> [ModelVersion] {
        try await read("read model '\(name)'") { connection in
            try await self.requireModel(on: connection, name)
            let aliases = try await self.currentAliases(on: connection, name: name)[name] ?? [:]
            let found = try await self.rows("""
                SELECT \(unescaped: Self.versionColumns) FROM model_version WHERE name = \(name) ORDER BY version
                """, on: connection)
            return try found.map { row in try Self.version(from: row, aliases: aliases) }
        }
    }

    public func models() async throws(RegistryError) -> [ModelSummary] {
        try await read("list models") { connection in
            let aliases = try await self.currentAliases(on: connection, name: nil)
            let found = try await self.rows("""
                SELECT m.name, m.created_at, MAX(v.version), COUNT(v.version), MAX(v.created_at)
                FROM model AS m LEFT JOIN model_version AS v ON v.name = m.name
                GROUP BY m.name ORDER BY m.name
                """, on: connection)
            return try found.map { row in
                let reader = PostgresRowReader(row, table: "model", key: "the model list")
                let name = try reader.value(0, "name", as: String.self)
                let updated = try reader.optional(4, "created_at", as: Double.self) ?? reader.value(1, "created_at", as: Double.self)
                return ModelSummary(name: name, latestVersion: try reader.optional(2, "version", as: Int64.self).map { Int($0) },
                                    versionCount: Int(try reader.value(3, "version", as: Int64.self)),
                                    aliases: aliases[name] ?? [:], updatedAt: Date(timeIntervalSince1970: updated))
            }
        }
    }

    public func aliasHistory(name: String, alias: String) async throws(RegistryError) -> [AliasMove] {
        try await read("read the history of alias '\(alias)' of model '\(name)'") { connection in
            try await self.history(on: connection, name: name, alias: alias)
        }
    }
}
