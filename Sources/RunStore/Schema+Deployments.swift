internal import GRDB

extension Schema {
    /// The deployments' table (`Deployment`'s `DeploymentStore`): every model version
    /// started as a service, the process that serves it, and what became of it.
    ///
    /// It lives in the run history's file so that a version, the run that deployed it and
    /// its smoke test are read together (`models lineage`), under the same locking. This
    /// target only creates it; `Deployment` reads and writes it.
    ///
    /// Decisions worth knowing:
    /// - A row is a deployment, never updated in place but for `status`, `stopped_at` and
    ///   `smoke_json`: a rollback is a status change of two rows, so the history keeps both.
    /// - `pid` with `pid_start_time` names the process (`ProcessIdentity`): a pid alone may
    ///   belong to another process after a reboot or a wrap-around. A row whose status says
    ///   it serves but whose process is gone reads as `dead`; that is computed, not stored.
    /// - `alias` and `alias_was`: the alias the deploy moved (`promote:`) and the version
    ///   it pointed at before (NULL: it did not exist), so that a rollback moves it back.
    /// - `launch_json` holds what restarting the service needs (folders, port, TLS paths,
    ///   the token's secret *name*): never a secret's value.
    /// - `run_id` has no foreign key: a deployment outlives `runs prune`.
    static func addDeployments(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE deployment (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                name TEXT NOT NULL,
                target TEXT NOT NULL,
                model TEXT NOT NULL,
                version INTEGER NOT NULL,
                endpoint TEXT NOT NULL,
                status TEXT NOT NULL,
                pid INTEGER NOT NULL,
                pid_start_time INTEGER NOT NULL,
                host TEXT NOT NULL,
                folder TEXT NOT NULL,
                log_path TEXT NOT NULL,
                alias TEXT,
                alias_was INTEGER,
                replaces INTEGER,
                run_id INTEGER,
                stage TEXT,
                created_at REAL NOT NULL,
                stopped_at REAL,
                smoke_json TEXT,
                launch_json TEXT NOT NULL
            );
            CREATE INDEX deployment_on_name ON deployment(name);
            CREATE INDEX deployment_on_model_version ON deployment(model, version);
            """)
    }
}
