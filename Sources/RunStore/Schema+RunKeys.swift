internal import GRDB

extension Schema {
    /// `run_key`: the key under which the tasks of one workflow (an Argo `Workflow`, a
    /// GitHub Actions run) record into one run (`mlpipe run --run-key KEY`), and
    /// `stage.host`: the machine each stage ran on, which differs from the run's host when
    /// the stages of a run ran on several.
    ///
    /// The key has a table of its own, as names and notes do (`run_note`): a column of
    /// `run` would come after `pipeline_source`, and the key is read by primary key when a
    /// task joins its run, and as a set (`run_id IN (SELECT run_id FROM run_key)`) when
    /// dead runs are marked interrupted: a keyed run has no one process whose death ends
    /// it. `stage.host` is NULL for stages recorded before this migration, which
    /// `runs show` then takes to have run on the run's host.
    static func addRunKeys(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE run_key (
                key TEXT NOT NULL PRIMARY KEY,
                run_id INTEGER NOT NULL UNIQUE REFERENCES run(id) ON DELETE CASCADE
            );
            ALTER TABLE stage ADD COLUMN host TEXT;
            """)
    }
}
