import Foundation
internal import GRDB

/// The queries of `mlpipe serve`: keyset pages of runs and metric series.
extension SQLiteRunStore {
    /// The page of runs `query` asks for, newest first.
    ///
    /// Each filter is one condition; the cursor is `id < before`. Pipeline and status are
    /// served by the indexes of v1, branch and commit by those of v6 (see
    /// ``Schema/addServeIndexes(_:)``): every index ends with the rowid, so the page is a
    /// backward walk of one index range that stops after `limit` rows. A commit prefix
    /// is a range `[prefix, prefix + 1)` on `git_commit`, not a LIKE (which SQLite's
    /// case-insensitive LIKE would not take to the index).
    public func runPage(_ query: RunPageQuery) throws(RunStoreError) -> [RunRecord] {
        var conditions = RunConditions(pipeline: query.pipeline, status: query.status)
        if let branch = query.branch { conditions.add("git_branch = ?", branch) }
        if let prefix = query.commitPrefix?.lowercased(), !prefix.isEmpty {
            conditions.add("git_commit >= ?", prefix)
            if let upper = Self.successor(ofPrefix: prefix) { conditions.add("git_commit < ?", upper) }
        }
        if let before = query.before { conditions.add("id < ?", before) }
        return try listRuns(conditions, limit: query.limit, action: "list a page of runs")
    }

    /// The metrics the stages of the newest `runs` runs of `pipeline` recorded, oldest
    /// run first, then by stage position: what the metric charts plot.
    ///
    /// Runs are taken through `run_on_pipeline` (newest first, `runs` of them), their
    /// stages by primary key; stages without metrics are left out.
    public func metricPoints(pipeline: String, runs: Int) throws(RunStoreError) -> [MetricPoint] {
        let sql = """
            SELECT r.id, r.git_commit, r.started_at, s.name, s.metrics_json
            FROM (SELECT id, git_commit, started_at FROM run WHERE pipeline = ? ORDER BY id DESC LIMIT ?) AS r
            JOIN stage AS s ON s.run_id = r.id
            WHERE s.metrics_json IS NOT NULL AND s.status IN ('succeeded', 'cached')
            ORDER BY r.id, s.position, s.name
            """
        return try read("read the metrics of pipeline '\(pipeline)'") { db in
            try Row.fetchAll(db.cachedStatement(sql: sql), arguments: [pipeline, max(1, runs)]).map { row throws(RunStoreError) in
                let reader = RowReader(row: row, table: "stage", key: "a metric")
                return MetricPoint(runID: try reader.value(0, "id"), commit: try reader.value(1, "git_commit"),
                                   startedAt: try reader.value(2, "started_at"), stage: try reader.value(3, "name"),
                                   metricsJSON: try reader.value(4, "metrics_json"))
            }
        }
    }

    /// The branches that have runs, sorted (through `run_on_branch`).
    public func branchNames() throws(RunStoreError) -> [String] {
        try read("list branches") { db in
            try String.fetchAll(db.cachedStatement(sql: "SELECT DISTINCT git_branch FROM run WHERE git_branch IS NOT NULL ORDER BY git_branch"))
        }
    }

    /// The smallest string greater than every string starting with `prefix`, for a
    /// range scan; nil when there is none (the prefix is all U+10FFFF).
    static func successor(ofPrefix prefix: String) -> String? {
        var scalars = Array(prefix.unicodeScalars)
        while let last = scalars.popLast() {
            if let next = Unicode.Scalar(last.value + 1) {
                scalars.append(next)
                return String(String.UnicodeScalarView(scalars))
            }
        }
        return nil
    }
}
