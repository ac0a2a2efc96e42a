internal import GRDB

extension Schema {
    /// The local model registry's tables (`ModelRegistry`'s `LocalModelRegistry`):
    /// registered models, their versions, and every alias move.
    ///
    /// They live in the run history's file so that a version, the run that made it and
    /// its lineage are read together, under the same locking (WAL, `BEGIN IMMEDIATE`).
    /// This target only creates them; `ModelRegistry` reads and writes them.
    ///
    /// Decisions worth knowing:
    /// - `model_version` is keyed by `(name, version)` and unique on `(name,
    ///   package_digest)`: registering one package twice returns the version it already
    ///   has, and two processes that race to register it cannot both insert a row (the
    ///   loser's immediate transaction sees the winner's row).
    /// - `run_id` has no foreign key: a version outlives `runs prune`, and one registered
    ///   by hand (`mlpipe models`) has no run.
    /// - `model_alias_move` is append-only: an alias's holder is its newest row, and the
    ///   rows before it are the history (`models history NAME@ALIAS --at TIME`). MLflow
    ///   keeps no alias history, so moves made on an MLflow server are kept here too;
    ///   `registry` says where the alias lives (`local`, or `mlflow:<tracking URI>`).
    /// - `lineage_json` holds what was known at registration (inputs' object ids, the
    ///   scan verdict and report digest), as canonical JSON, so that it never changes.
    static func addModelRegistry(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE model (
                name TEXT NOT NULL PRIMARY KEY,
                created_at REAL NOT NULL
            );

            CREATE TABLE model_version (
                name TEXT NOT NULL REFERENCES model(name),
                version INTEGER NOT NULL,
                package_digest TEXT NOT NULL,
                image_digest TEXT,
                image TEXT,
                source TEXT,
                metrics_json TEXT NOT NULL,
                run_id INTEGER,
                git_commit TEXT NOT NULL,
                pipeline TEXT,
                stage TEXT,
                user TEXT NOT NULL,
                created_at REAL NOT NULL,
                lineage_json TEXT NOT NULL,
                PRIMARY KEY (name, version),
                UNIQUE (name, package_digest)
            ) WITHOUT ROWID;

            CREATE TABLE model_alias_move (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                registry TEXT NOT NULL,
                name TEXT NOT NULL,
                alias TEXT NOT NULL,
                version INTEGER NOT NULL,
                moved_at REAL NOT NULL,
                run_id INTEGER,
                git_commit TEXT,
                user TEXT NOT NULL
            );
            CREATE INDEX model_alias_move_on_alias ON model_alias_move(registry, name, alias);
            """)
    }
}
