import Foundation
internal import GRDB

/// The append-only alias moves in `model_alias_move`, for every backend: the local
/// registry's aliases live only here; an MLflow server's aliases live on the server and
/// their history here (MLflow keeps none), under `registry = mlflow:<tracking URI>`.
///
/// An alias's holder is its newest row (by `id`, the order the moves were made in).
/// Each function runs inside the caller's transaction.
enum AliasLedger {
    /// Appends a move, unless `alias` already points at `version`: then the current move
    /// is returned and nothing is written, so re-running a registration leaves the history
    /// as it was.
    static func move(_ db: Database, registry: String, name: String, alias: String, version: Int,
                     provenance: Provenance, at time: Date) throws -> AliasMove {
        if let current = try history(db, registry: registry, name: name, alias: alias).last, current.version == version {
            return current
        }
        try db.execute(sql: """
            INSERT INTO model_alias_move (registry, name, alias, version, moved_at, run_id, git_commit, user)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [registry, name, alias, version, time.timeIntervalSince1970, provenance.runID,
                             provenance.commit, provenance.user])
        return AliasMove(name: name, alias: alias, version: version, movedAt: time, provenance: provenance)
    }

    /// Every move of one alias, oldest first.
    static func history(_ db: Database, registry: String, name: String, alias: String) throws -> [AliasMove] {
        try Row.fetchAll(db, sql: """
            SELECT name, alias, version, moved_at, run_id, git_commit, user FROM model_alias_move
            WHERE registry = ? AND name = ? AND alias = ? ORDER BY id
            """, arguments: [registry, name, alias]).map(move(from:))
    }

    /// Each alias of a model (all models when `name` is nil) and the version it points at
    /// now: `[model: [alias: version]]`.
    static func current(_ db: Database, registry: String, name: String?) throws -> [String: [String: Int]] {
        var sql = """
            SELECT name, alias, version FROM model_alias_move AS m
            WHERE registry = ? AND id = (SELECT MAX(id) FROM model_alias_move
                                         WHERE registry = m.registry AND name = m.name AND alias = m.alias)
            """
        var arguments: StatementArguments = [registry]
        if let name {
            sql += " AND name = ?"
            arguments += [name]
        }
        var aliases: [String: [String: Int]] = [:]
        for row in try Row.fetchAll(db, sql: sql, arguments: arguments) {
            let model: String = row["name"]
            aliases[model, default: [:]][row["alias"]] = row["version"]
        }
        return aliases
    }

    private static func move(from row: Row) -> AliasMove {
        AliasMove(name: row["name"], alias: row["alias"], version: row["version"],
                  movedAt: Date(timeIntervalSince1970: row["moved_at"]),
                  provenance: Provenance(runID: row["run_id"], commit: row["git_commit"], user: row["user"]))
    }
}
