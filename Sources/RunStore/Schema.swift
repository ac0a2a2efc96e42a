internal import GRDB

/// The database schema, as named migrations applied in order.
///
/// Migrations are append-only: once one has shipped it is never edited or
/// removed, because databases in the field have recorded it as applied. A change
/// to the schema is a new migration at the end. Column names are snake_case so
/// that the same SQL reads naturally in PostgreSQL, where a team-wide store may
/// move later.
enum Schema {
    /// Every migration, in order.
    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1 runs, stages, outputs, cache entries", migrate: createRunHistory)
        migrator.registerMigration("v2 stage results and warnings, cache entry results", migrate: addResults)
        migrator.registerMigration("v3 run.pruned_at", migrate: addPrunedAt)
        migrator.registerMigration("v4 model registry: models, versions, alias moves", migrate: addModelRegistry)
        migrator.registerMigration("v5 deployments", migrate: addDeployments)
        migrator.registerMigration("v6 serve: runs by branch and commit", migrate: addServeIndexes)
        migrator.registerMigration("v9 run names and notes", migrate: addRunNotes)
        migrator.registerMigration("v10 webhook trigger queue", migrate: addTriggerQueue)
        migrator.registerMigration("v11 run keys, stage hosts", migrate: addRunKeys)
        return migrator
    }()

    /// The first schema.
    ///
    /// Decisions worth knowing before reading a query plan:
    /// - `run.id` is AUTOINCREMENT so that an id is never reused, even after the
    ///   newest run is deleted: `#42` keeps naming one run forever.
    /// - Lists are ordered by `id DESC`. Each index on `run` ends, implicitly,
    ///   with the rowid, so `WHERE pipeline = ? ORDER BY id DESC LIMIT 50` walks
    ///   the `(pipeline)` index backwards and stops after 50 rows, and likewise
    ///   for `(status)` and `(pipeline, status)`.
    /// - `params_json` and `pipeline_source` come last in `run`: SQLite reads a
    ///   row's columns in order, so a list that stops before them never touches
    ///   the overflow pages where a long pipeline file lives.
    /// - Times are REAL seconds since 1970 (`datetime(started_at, 'unixepoch')`
    ///   in the sqlite3 shell).
    /// - `output` is WITHOUT ROWID, so a run's outputs sit together in key order.
    /// - Statuses are plain text without CHECK constraints: a new status in a
    ///   later version needs no table rebuild, and readers reject values they do
    ///   not know with an error that names them.
    /// - `stage(name, run_id)` serves `lastResult`, which walks a stage's history
    ///   newest first.
    static func createRunHistory(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE run (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                pipeline TEXT NOT NULL,
                pipeline_file TEXT NOT NULL,
                pipeline_digest TEXT NOT NULL,
                git_commit TEXT NOT NULL,
                git_branch TEXT,
                git_dirty INTEGER NOT NULL,
                triggered_by TEXT NOT NULL,
                parent_run INTEGER REFERENCES run(id) ON DELETE SET NULL,
                status TEXT NOT NULL,
                started_at REAL NOT NULL,
                finished_at REAL,
                version TEXT NOT NULL,
                host TEXT NOT NULL,
                pid INTEGER NOT NULL,
                pid_start_time INTEGER NOT NULL,
                params_json TEXT NOT NULL,
                pipeline_source TEXT NOT NULL
            );
            CREATE INDEX run_on_pipeline ON run(pipeline);
            CREATE INDEX run_on_status ON run(status);
            CREATE INDEX run_on_pipeline_status ON run(pipeline, status);
            CREATE INDEX run_on_parent_run ON run(parent_run);

            CREATE TABLE stage (
                run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                kind TEXT NOT NULL,
                position INTEGER NOT NULL,
                status TEXT NOT NULL,
                cache_key TEXT,
                cached_from INTEGER,
                attempts INTEGER NOT NULL,
                exit_code INTEGER,
                started_at REAL,
                finished_at REAL,
                log_path TEXT,
                reason TEXT,
                error TEXT,
                metrics_json TEXT,
                key_components_json TEXT,
                PRIMARY KEY (run_id, name)
            );
            CREATE INDEX stage_on_name_run_id ON stage(name, run_id);

            CREATE TABLE output (
                run_id INTEGER NOT NULL,
                stage TEXT NOT NULL,
                name TEXT NOT NULL,
                digest TEXT NOT NULL,
                kind TEXT NOT NULL,
                size INTEGER NOT NULL,
                path TEXT NOT NULL,
                PRIMARY KEY (run_id, stage, name),
                FOREIGN KEY (run_id, stage) REFERENCES stage(run_id, name) ON DELETE CASCADE
            ) WITHOUT ROWID;

            CREATE TABLE cache_entry (
                key TEXT NOT NULL PRIMARY KEY,
                pipeline TEXT NOT NULL,
                stage TEXT NOT NULL,
                run_id INTEGER NOT NULL,
                created_at REAL NOT NULL,
                last_used_at REAL NOT NULL,
                metrics_json TEXT,
                outputs_json TEXT NOT NULL
            );
            """)
    }

    /// Typed results of a stage kind (an image digest, a model version) and the
    /// warnings a stage's bookkeeping met (a cache entry that could not be saved).
    ///
    /// Added as nullable columns at the end of their tables: older rows read as "no
    /// results, no warnings", and no table is rebuilt.
    static func addResults(_ db: Database) throws {
        try db.execute(sql: """
            ALTER TABLE stage ADD COLUMN results_json TEXT;
            ALTER TABLE stage ADD COLUMN warnings_json TEXT;
            ALTER TABLE cache_entry ADD COLUMN results_json TEXT;
            """)
    }

    /// `run.pruned_at`: when `mlpipe runs prune` removed the run's folder
    /// (`workspace/runs/<id>/`, its outputs and logs), NULL while it is there. The
    /// record stays, so history keeps every run, and `logs` can say why a log is gone.
    ///
    /// `ALTER TABLE … ADD COLUMN` puts the column after `pipeline_source`, against
    /// the rule that lists never reach that far into a row. It costs nothing in
    /// practice: a row written before this migration has no value there (SQLite
    /// returns the default without reading the row's end), and a NULL is read from
    /// the row's header alone (`OP_Column` skips the overflow pages for a value of
    /// zero length). Only a pruned run's row is read to its end, and pruned runs are
    /// the old ones that a `runs --limit 50` rarely reaches. Rebuilding the table to
    /// put the column earlier would rewrite every row of a long history on upgrade.
    static func addPrunedAt(_ db: Database) throws {
        try db.execute(sql: "ALTER TABLE run ADD COLUMN pruned_at REAL")
    }
}
