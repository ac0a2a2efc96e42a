import Foundation
import ModelRegistry
import PostgresNIO
import RunStore

/// Transactions, the alias ledger, rows and errors of ``PostgresModelRegistry``.
extension PostgresModelRegistry {
    /// `model_version`'s columns, in the order ``version(from:aliases:)`` reads them.
    static let versionColumns = """
        name, version, package_digest, image_digest, image, source, metrics_json, run_id, git_commit, \
        pipeline, stage, "user", created_at, lineage_json
        """

    // MARK: - Transactions

    /// Runs `body` in a transaction that holds the advisory lock of model `name` (see
    /// ``PostgresModelRegistry``), so that writes to one model are made one at a time.
    func write<T: Sendable>(_ operation: String, name: String,
                            _ body: @escaping (PostgresConnection) async throws -> T) async throws(RegistryError) -> T {
        try await transaction(operation, begin: "BEGIN") { connection in
            try await self.execute("SELECT pg_advisory_xact_lock(hashtextextended(\("mlpipe model " + name), 0))",
                                   on: connection)
            return try await body(connection)
        }
    }

    /// Runs `body` in a read-only `REPEATABLE READ` transaction: one consistent snapshot.
    func read<T: Sendable>(_ operation: String,
                           _ body: @escaping (PostgresConnection) async throws -> T) async throws(RegistryError) -> T {
        try await transaction(operation, begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body)
    }

    /// Runs `body` between `begin` and `COMMIT` on a pooled connection, rolled back when it
    /// throws; a ``RegistryError`` is thrown as it is, any other error as a database error
    /// about `operation`.
    private func transaction<T: Sendable>(_ operation: String, begin: String,
                                          _ body: (PostgresConnection) async throws -> T) async throws(RegistryError) -> T {
        if !migrated.withLock({ $0 }) {
            do {
                try await store.migrate()
            } catch {
                throw RegistryError(.database, "cannot open the model registry in \(store.location.redacted): \(error.reason)",
                                    remedy: error.remedy, cause: error)
            }
            migrated.withLock { $0 = true }
        }
        let connection: PostgresConnection
        do {
            connection = try await store.pool.take()
        } catch {
            throw wrap(error, operation)
        }
        do {
            try await execute(PostgresQuery(unsafeSQL: begin), on: connection)
            let result = try await body(connection)
            try await execute("COMMIT", on: connection)
            await store.pool.give(back: connection)
            return result
        } catch {
            if !connection.isClosed {
                do {
                    try await execute("ROLLBACK", on: connection)
                } catch {
                    // The connection is unusable: closed rather than reused.
                    connection.closeSoon()
                }
            }
            await store.pool.give(back: connection)
            throw wrap(error, operation)
        }
    }

    /// A ``RegistryError`` as it is; the store's errors as `LocalModelRegistry` words the
    /// SQLite file's: `cannot OPERATION in URL: REASON`, never a statement's values.
    func wrap(_ error: any Error, _ operation: String) -> RegistryError {
        if let error = error as? RegistryError { return error }
        let failure = store.wrap(error, operation: operation)
        return RegistryError(.database, "cannot \(operation) in \(store.location.redacted): \(failure.reason)",
                             remedy: failure.remedy, cause: failure)
    }

    func rows(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [PostgresRow] {
        try await store.rows(query, on: connection)
    }

    func execute(_ query: PostgresQuery, on connection: PostgresConnection) async throws {
        try await store.execute(query, on: connection)
    }

    // MARK: - The alias ledger

    /// Every move of one alias, oldest first (by `id`, the order they were made in).
    func history(on connection: PostgresConnection, name: String, alias: String) async throws -> [AliasMove] {
        let found = try await rows("""
            SELECT name, alias, version, moved_at, run_id, git_commit, "user" FROM model_alias_move
            WHERE registry = \(location) AND name = \(name) AND alias = \(alias) ORDER BY id
            """, on: connection)
        return try found.map { row throws(RunStoreError) in
            let reader = PostgresRowReader(row, table: "model_alias_move", key: "alias '\(alias)' of model '\(name)'")
            return AliasMove(
                name: try reader.value(0, "name"), alias: try reader.value(1, "alias"), version: try reader.int(2, "version"),
                movedAt: try reader.date(3, "moved_at"),
                provenance: Provenance(runID: try reader.optional(4, "run_id"), commit: try reader.optional(5, "git_commit"),
                                       user: try reader.value(6, "user")))
        }
    }

    /// Each alias of a model (of every model when `name` is nil) and the version it
    /// points at now: `[model: [alias: version]]`.
    func currentAliases(on connection: PostgresConnection, name: String?) async throws -> [String: [String: Int]] {
        let found = try await rows("""
            SELECT name, alias, version FROM model_alias_move AS m
            WHERE registry = \(location) AND (\(name)::text IS NULL OR name = \(name))
              AND id = (SELECT MAX(id) FROM model_alias_move
                        WHERE registry = m.registry AND name = m.name AND alias = m.alias)
            """, on: connection)
        var aliases: [String: [String: Int]] = [:]
        for row in found {
            let reader = PostgresRowReader(row, table: "model_alias_move", key: "the aliases of \(name.map { "model '\($0)'" } ?? "every model")")
            aliases[try reader.value(0, "name", as: String.self), default: [:]][try reader.value(1, "alias")] = try reader.int(2, "version")
        }
        return aliases
    }

    // MARK: - Unknown names

    /// Throws `unknownModel` when the model has never been registered.
    func requireModel(on connection: PostgresConnection, _ name: String) async throws {
        if try await rows("SELECT 1 FROM model WHERE name = \(name)", on: connection).isEmpty {
            throw try await unknownModel(on: connection, name)
        }
    }

    func unknownModel(on connection: PostgresConnection, _ name: String) async throws -> RegistryError {
        let known = try await rows("SELECT name FROM model ORDER BY name", on: connection).map { try $0.decode(String.self) }
        return RegistryError(.unknownModel, "no model '\(name)' in the \(registryName)",
                             remedy: "`mlpipe models list` lists the registered models", subject: name, known: known)
    }

    func unknownVersion(on connection: PostgresConnection, _ number: Int, of name: String) async throws -> RegistryError {
        try await requireModel(on: connection, name)
        let known = try await rows("SELECT version FROM model_version WHERE name = \(name) ORDER BY version", on: connection)
            .map { String(try $0.decode(Int64.self)) }
        let have = known.isEmpty ? "it has no versions" : "its versions are \(known.joined(separator: ", "))"
        return RegistryError(.unknownVersion, "model '\(name)' has no version \(number) in the \(registryName)",
                             remedy: have, subject: String(number), known: known)
    }

    func unknownAlias(_ alias: String, of name: String, known: [String]) -> RegistryError {
        RegistryError(.unknownAlias, "model '\(name)' has no alias '\(alias)' in the \(registryName)",
                      remedy: "set it with `mlpipe models alias \(name) VERSION \(alias)`", subject: alias, known: known.sorted())
    }

    /// "PostgreSQL registry at URL", for messages.
    var registryName: String { "PostgreSQL registry at \(store.location.redacted)" }

    // MARK: - Rows

    /// A `model_version` row (``versionColumns``) as a version, with its model's aliases.
    static func version(from row: PostgresRow, aliases: [String: Int]) throws -> ModelVersion {
        let reader = PostgresRowReader(row, table: "model_version", key: "a version of a model")
        let name = try reader.value(0, "name", as: String.self)
        let number = try reader.int(1, "version")
        let key = "version \(number) of model '\(name)'"
        let metrics: [String: Double]
        let lineage: RegistryColumns.Lineage
        do {
            metrics = try JSONDecoder().decode([String: Double].self, from: Data(try reader.value(6, "metrics_json", as: String.self).utf8))
            lineage = try JSONDecoder().decode(RegistryColumns.Lineage.self, from: Data(try reader.value(13, "lineage_json", as: String.self).utf8))
        } catch let error as RunStoreError {
            throw error
        } catch {
            throw RunStoreError(code: .invalidRecord, operation: "read \(key)", path: nil,
                                reason: "column model_version.metrics_json or lineage_json is not the JSON mlpipe writes",
                                remedy: "the database was edited by hand or by another tool; restore it")
        }
        let commit = try reader.value(8, "git_commit", as: String.self)
        return ModelVersion(
            name: name, version: number, packageDigest: try reader.value(2, "package_digest"),
            imageDigest: try reader.optional(3, "image_digest"), image: try reader.optional(4, "image"),
            source: try reader.optional(5, "source"), metrics: metrics, pipeline: try reader.optional(9, "pipeline"),
            stage: try reader.optional(10, "stage"), inputs: lineage.inputs, scanVerdict: lineage.scanVerdict,
            scanReportDigest: lineage.scanReportDigest,
            provenance: Provenance(runID: try reader.optional(7, "run_id"), commit: commit.isEmpty ? nil : commit,
                                   user: try reader.value(11, "user")),
            createdAt: try reader.date(12, "created_at"),
            aliases: aliases.filter { $0.value == number }.keys.sorted())
    }
}
