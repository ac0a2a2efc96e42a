internal import GRDB

extension Schema {
    /// `trigger_queue`: the pushes that `mlpipe serve`'s webhooks received, and the pipeline
    /// runs each push asked for (see ``TriggerRecord``).
    ///
    /// Rows rather than memory, so that a queue survives the server's restart. Two kinds
    /// of row share the table:
    /// - a push (`pipeline` NULL): what a hook received. The worker plans it (fetches the
    ///   commit, finds the pipelines the push touched) and marks it `done`, or `failed`
    ///   with the reason;
    /// - a pipeline (`pipeline` set, `push_id` naming its push): one run to make, at the
    ///   push's commit, on its branch. At most one per pipeline and branch is `running`.
    ///
    /// Decisions worth knowing:
    /// - `(source, delivery_id)` is unique among pushes: GitHub and GitLab re-send a
    ///   delivery that timed out, and a second copy must not run anything twice. The
    ///   index is partial, so a push's pipeline rows may repeat the delivery id.
    /// - `worker_host`, `worker_pid`, `worker_start_time` name the process that claimed
    ///   a `running` row (as `run.host`, `run.pid`, `run.pid_start_time` do), so that a
    ///   server starting again can tell a row whose worker died from one that still runs.
    /// - `attempts` counts claims: a row whose worker died three times (a run that brings
    ///   the machine down) is failed instead of queued again.
    /// - `run_id` is set as soon as the run has an id; `ON DELETE SET NULL` keeps the
    ///   trigger when its run's record goes.
    /// - `trigger_queue_on_state` serves the worker's claims (`state = 'queued' ORDER BY
    ///   id`), which walk only the queued rows however long the history.
    static func addTriggerQueue(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE trigger_queue (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                source TEXT NOT NULL,
                delivery_id TEXT NOT NULL,
                branch TEXT NOT NULL,
                git_commit TEXT NOT NULL,
                before_commit TEXT,
                pipeline TEXT,
                push_id INTEGER REFERENCES trigger_queue(id) ON DELETE CASCADE,
                state TEXT NOT NULL,
                run_id INTEGER REFERENCES run(id) ON DELETE SET NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                created_at REAL NOT NULL,
                started_at REAL,
                finished_at REAL,
                worker_host TEXT,
                worker_pid INTEGER,
                worker_start_time INTEGER,
                note TEXT,
                error TEXT
            );
            CREATE UNIQUE INDEX trigger_queue_on_delivery ON trigger_queue(source, delivery_id) WHERE pipeline IS NULL;
            CREATE INDEX trigger_queue_on_state ON trigger_queue(state);
            CREATE INDEX trigger_queue_on_push_id ON trigger_queue(push_id);
            """)
    }
}
