/// The PostgreSQL twin of the SQLite schema (`RunStore`'s `Schema`): the same tables and
/// columns, migration by migration, under the same identifiers.
///
/// Each SQLite migration v1…v9 has its twin here, recorded in `schema_migrations` under
/// the very identifier GRDB records in `grdb_migrations` ("v1 runs, stages, outputs,
/// cache entries", …), so that one list of names says where either database stands.
/// Like SQLite's, the list is append-only: a shipped migration is never edited. A new
/// SQLite migration (v10 and on) needs its twin appended here, in the same order.
/// Migrations that only PostgreSQL needs are named `pg<N> …` (`pg1 run leases`).
///
/// How the types map, so that both stores read and write the same values:
/// - `INTEGER` is `BIGINT` (`git_dirty` stays 0 or 1, as in SQLite);
/// - `REAL` (times, seconds since 1970) is `DOUBLE PRECISION`;
/// - `TEXT` is `TEXT`, JSON included (`params_json`, `metrics_json`, …): the store
///   writes and reads the same canonical text, and never queries inside it;
/// - `INTEGER PRIMARY KEY AUTOINCREMENT` is `BIGINT GENERATED ALWAYS AS IDENTITY`: ids
///   come from one sequence, so they are unique across every machine and never reused
///   (a rolled-back insert leaves a gap, as AUTOINCREMENT may);
/// - `WITHOUT ROWID` has no twin (PostgreSQL tables are heaps), and `model_version.user`
///   is quoted, `user` being a reserved word.
enum PostgresSchema {
    /// One migration: its identifier and its statements, run in one transaction
    /// (PostgreSQL's DDL is transactional) together with its `schema_migrations` row.
    struct Migration: Sendable {
        let identifier: String
        let statements: [String]
    }

    /// Every migration, in order.
    static let migrations: [Migration] = [
        Migration(identifier: "v1 runs, stages, outputs, cache entries", statements: runHistory),
        Migration(identifier: "v2 stage results and warnings, cache entry results", statements: [
            "ALTER TABLE stage ADD COLUMN results_json TEXT",
            "ALTER TABLE stage ADD COLUMN warnings_json TEXT",
            "ALTER TABLE cache_entry ADD COLUMN results_json TEXT",
        ]),
        Migration(identifier: "v3 run.pruned_at", statements: ["ALTER TABLE run ADD COLUMN pruned_at DOUBLE PRECISION"]),
        Migration(identifier: "v4 model registry: models, versions, alias moves", statements: modelRegistry),
        Migration(identifier: "v5 deployments", statements: deployments),
        Migration(identifier: "v6 serve: runs by branch and commit", statements: [
            "CREATE INDEX run_on_branch ON run(git_branch)",
            // text_pattern_ops: a commit prefix is a range scan whatever the collation.
            "CREATE INDEX run_on_commit ON run(git_commit text_pattern_ops)",
        ]),
        Migration(identifier: "v9 run names and notes", statements: [
            """
            CREATE TABLE run_note (
                run_id BIGINT PRIMARY KEY REFERENCES run(id) ON DELETE CASCADE,
                name TEXT,
                note TEXT
            )
            """,
        ]),
        // A pid means nothing on another machine: a run is alive while its runner keeps
        // extending its lease (see PostgresRunStore+Lease.swift). Seconds since 1970, on
        // the server's clock, NULL for a run that never ran here with a lease.
        Migration(identifier: "pg1 run leases", statements: ["ALTER TABLE run ADD COLUMN lease_until DOUBLE PRECISION"]),
        // The webhook queue of `mlpipe serve` (see `Schema.addTriggerQueue`); serve itself
        // still reads and writes it on SQLite only.
        Migration(identifier: "v10 webhook trigger queue", statements: [
            """
            CREATE TABLE trigger_queue (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                source TEXT NOT NULL,
                delivery_id TEXT NOT NULL,
                branch TEXT NOT NULL,
                git_commit TEXT NOT NULL,
                before_commit TEXT,
                pipeline TEXT,
                push_id BIGINT REFERENCES trigger_queue(id) ON DELETE CASCADE,
                state TEXT NOT NULL,
                run_id BIGINT REFERENCES run(id) ON DELETE SET NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                created_at DOUBLE PRECISION NOT NULL,
                started_at DOUBLE PRECISION,
                finished_at DOUBLE PRECISION,
                worker_host TEXT,
                worker_pid INTEGER,
                worker_start_time BIGINT,
                note TEXT,
                error TEXT
            )
            """,
            "CREATE UNIQUE INDEX trigger_queue_on_delivery ON trigger_queue(source, delivery_id) WHERE pipeline IS NULL",
            "CREATE INDEX trigger_queue_on_state ON trigger_queue(state)",
            "CREATE INDEX trigger_queue_on_push_id ON trigger_queue(push_id)",
        ]),
        // The tasks of one workflow record into one run (see `Schema.addRunKeys`).
        Migration(identifier: "v11 run keys, stage hosts", statements: [
            """
            CREATE TABLE run_key (
                key TEXT NOT NULL PRIMARY KEY,
                run_id BIGINT NOT NULL UNIQUE REFERENCES run(id) ON DELETE CASCADE
            )
            """,
            "ALTER TABLE stage ADD COLUMN host TEXT",
        ]),
    ]

    /// The key of the transaction-level advisory lock that serialises migrations: two
    /// runners that open a new database at once apply each migration once.
    static let migrationLockKey: Int64 = 0x6D6C_7069_7065_0001  // "mlpipe", 1

    /// v1: runs, stages, outputs, cache entries (see `Schema.createRunHistory`).
    static let runHistory = [
        """
        CREATE TABLE run (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            pipeline TEXT NOT NULL,
            pipeline_file TEXT NOT NULL,
            pipeline_digest TEXT NOT NULL,
            git_commit TEXT NOT NULL,
            git_branch TEXT,
            git_dirty BIGINT NOT NULL,
            triggered_by TEXT NOT NULL,
            parent_run BIGINT REFERENCES run(id) ON DELETE SET NULL,
            status TEXT NOT NULL,
            started_at DOUBLE PRECISION NOT NULL,
            finished_at DOUBLE PRECISION,
            version TEXT NOT NULL,
            host TEXT NOT NULL,
            pid BIGINT NOT NULL,
            pid_start_time BIGINT NOT NULL,
            params_json TEXT NOT NULL,
            pipeline_source TEXT NOT NULL
        )
        """,
        // SQLite's indexes end with the rowid implicitly; here `id` is named, so that
        // `WHERE pipeline = $1 ORDER BY id DESC LIMIT 50` reads 50 index entries.
        "CREATE INDEX run_on_pipeline ON run(pipeline, id)",
        "CREATE INDEX run_on_status ON run(status, id)",
        "CREATE INDEX run_on_pipeline_status ON run(pipeline, status, id)",
        "CREATE INDEX run_on_parent_run ON run(parent_run)",
        """
        CREATE TABLE stage (
            run_id BIGINT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            position BIGINT NOT NULL,
            status TEXT NOT NULL,
            cache_key TEXT,
            cached_from BIGINT,
            attempts BIGINT NOT NULL,
            exit_code BIGINT,
            started_at DOUBLE PRECISION,
            finished_at DOUBLE PRECISION,
            log_path TEXT,
            reason TEXT,
            error TEXT,
            metrics_json TEXT,
            key_components_json TEXT,
            PRIMARY KEY (run_id, name)
        )
        """,
        "CREATE INDEX stage_on_name_run_id ON stage(name, run_id)",
        """
        CREATE TABLE output (
            run_id BIGINT NOT NULL,
            stage TEXT NOT NULL,
            name TEXT NOT NULL,
            digest TEXT NOT NULL,
            kind TEXT NOT NULL,
            size BIGINT NOT NULL,
            path TEXT NOT NULL,
            PRIMARY KEY (run_id, stage, name),
            FOREIGN KEY (run_id, stage) REFERENCES stage(run_id, name) ON DELETE CASCADE
        )
        """,
        """
        CREATE TABLE cache_entry (
            key TEXT NOT NULL PRIMARY KEY,
            pipeline TEXT NOT NULL,
            stage TEXT NOT NULL,
            run_id BIGINT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            last_used_at DOUBLE PRECISION NOT NULL,
            metrics_json TEXT,
            outputs_json TEXT NOT NULL
        )
        """,
    ]

    /// v4: the model registry's tables (see `Schema.addModelRegistry`), which
    /// ``PostgresModelRegistry`` reads and writes.
    static let modelRegistry = [
        """
        CREATE TABLE model (
            name TEXT NOT NULL PRIMARY KEY,
            created_at DOUBLE PRECISION NOT NULL
        )
        """,
        """
        CREATE TABLE model_version (
            name TEXT NOT NULL REFERENCES model(name),
            version BIGINT NOT NULL,
            package_digest TEXT NOT NULL,
            image_digest TEXT,
            image TEXT,
            source TEXT,
            metrics_json TEXT NOT NULL,
            run_id BIGINT,
            git_commit TEXT NOT NULL,
            pipeline TEXT,
            stage TEXT,
            "user" TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            lineage_json TEXT NOT NULL,
            PRIMARY KEY (name, version),
            UNIQUE (name, package_digest)
        )
        """,
        """
        CREATE TABLE model_alias_move (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            registry TEXT NOT NULL,
            name TEXT NOT NULL,
            alias TEXT NOT NULL,
            version BIGINT NOT NULL,
            moved_at DOUBLE PRECISION NOT NULL,
            run_id BIGINT,
            git_commit TEXT,
            "user" TEXT NOT NULL
        )
        """,
        "CREATE INDEX model_alias_move_on_alias ON model_alias_move(registry, name, alias)",
    ]

    /// v5: deployments (see `Schema.addDeployments`); like the registry, created for a
    /// whole schema while deployments stay in SQLite.
    static let deployments = [
        """
        CREATE TABLE deployment (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name TEXT NOT NULL,
            target TEXT NOT NULL,
            model TEXT NOT NULL,
            version BIGINT NOT NULL,
            endpoint TEXT NOT NULL,
            status TEXT NOT NULL,
            pid BIGINT NOT NULL,
            pid_start_time BIGINT NOT NULL,
            host TEXT NOT NULL,
            folder TEXT NOT NULL,
            log_path TEXT NOT NULL,
            alias TEXT,
            alias_was BIGINT,
            replaces BIGINT,
            run_id BIGINT,
            stage TEXT,
            created_at DOUBLE PRECISION NOT NULL,
            stopped_at DOUBLE PRECISION,
            smoke_json TEXT,
            launch_json TEXT NOT NULL
        )
        """,
        "CREATE INDEX deployment_on_name ON deployment(name)",
        "CREATE INDEX deployment_on_model_version ON deployment(model, version)",
    ]
}
