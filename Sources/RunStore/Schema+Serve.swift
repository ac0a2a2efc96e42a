internal import GRDB

extension Schema {
    /// Indexes for `mlpipe serve`'s runs list, whose filters include branch and commit.
    ///
    /// Each ends, implicitly, with the rowid, so `WHERE git_branch = ? AND id < ? ORDER
    /// BY id DESC LIMIT 50` walks one range backwards and stops after 50 rows, as the
    /// v1 indexes do for pipeline and status. `git_commit` is a range scan for a prefix.
    static func addServeIndexes(_ db: Database) throws {
        try db.execute(sql: """
            CREATE INDEX run_on_branch ON run(git_branch);
            CREATE INDEX run_on_commit ON run(git_commit);
            """)
    }
}
