import Foundation
import PostgresNIO
import RunStore

/// Bringing a database to the current schema, once, however many runners open it at once.
extension PostgresRunStore {
    /// Applies the migrations of ``PostgresSchema`` that `schema_migrations` lacks.
    ///
    /// The common case, a migrated database, is one read. Otherwise one transaction takes
    /// the transaction-level advisory lock ``PostgresSchema/migrationLockKey`` (so a second
    /// opener waits here, then finds the work done), creates `schema_migrations` if needed,
    /// and applies each missing migration with its row. PostgreSQL's DDL is transactional:
    /// a failure leaves the database as it was.
    func migrate() async throws(RunStoreError) {
        let operation = "open the run store \(location.redacted)"
        let wanted = PostgresSchema.migrations.map(\.identifier)
        do {
            let applied = try await appliedMigrations(operation: operation)
            if wanted.allSatisfy(applied.contains) { return }
        } catch where error.sqlState == "42P01" {
            // No schema_migrations table: a new database.
        }
        try await access(operation, transaction: true) { connection in
            try await execute("SELECT pg_advisory_xact_lock(\(PostgresSchema.migrationLockKey))", on: connection)
            try await execute("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    identifier TEXT NOT NULL PRIMARY KEY,
                    applied_at DOUBLE PRECISION NOT NULL
                )
                """, on: connection)
            var applied = Set<String>()
            for row in try await rows("SELECT identifier FROM schema_migrations", on: connection) {
                applied.insert(try row.decode(String.self))
            }
            for migration in PostgresSchema.migrations where !applied.contains(migration.identifier) {
                for statement in migration.statements {
                    try await execute(PostgresQuery(unsafeSQL: statement), on: connection)
                }
                try await execute("""
                    INSERT INTO schema_migrations (identifier, applied_at)
                    VALUES (\(migration.identifier), \(unescaped: Self.serverNow))
                    """, on: connection)
            }
        }
    }

    /// The identifiers `schema_migrations` holds.
    func appliedMigrations(operation: String) async throws(RunStoreError) -> Set<String> {
        let found = try await access(operation) { try await rows("SELECT identifier FROM schema_migrations", on: $0) }
        do {
            return Set(try found.map { try $0.decode(String.self) })
        } catch {
            throw wrap(error, operation: operation)
        }
    }
}
