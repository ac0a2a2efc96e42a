internal import GRDB

extension Schema {
    /// `run_note`: a run's name (`mlpipe run --name`) and note (`mlpipe runs note`).
    ///
    /// A table of its own rather than two columns of `run`: `ALTER TABLE` would put them
    /// after `pipeline_source`, so that every list of named runs would read each row to
    /// its end, through the overflow pages of a long pipeline file. Lists join it by
    /// primary key (one look-up per listed run); runs without a name or note have no row.
    static func addRunNotes(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE run_note (
                run_id INTEGER PRIMARY KEY REFERENCES run(id) ON DELETE CASCADE,
                name TEXT,
                note TEXT
            );
            """)
    }
}
