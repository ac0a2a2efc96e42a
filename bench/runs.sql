-- Fills a real mlpipe.db with copies of its run #1 (6 stages, 6 outputs), as runs
-- #2 .. #@LAST@, so that `mlpipe runs` and `runs show` read a store of @LAST@ runs
-- whose rows look like real ones (same column sizes, same pipeline source).
-- Columns follow Sources/RunStore/Schema.swift; run.sh substitutes @LAST@.
-- One run in ten failed, one in three was triggered by CI; copies are older than
-- run #1 by a minute each, and their stages are cached from run #1. No ANALYZE:
-- mlpipe never runs one, so neither side gets planner statistics.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TEMP TABLE n(i INTEGER PRIMARY KEY);
WITH RECURSIVE c(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM c WHERE i < @LAST@)
INSERT INTO n SELECT i FROM c;

INSERT INTO run (id, pipeline, pipeline_file, pipeline_digest, git_commit, git_branch, git_dirty,
                 triggered_by, parent_run, status, started_at, finished_at, version, host, pid,
                 pid_start_time, params_json, pipeline_source)
SELECT n.i, r.pipeline, r.pipeline_file, r.pipeline_digest, r.git_commit, r.git_branch, r.git_dirty,
       CASE WHEN n.i % 3 = 0 THEN 'ci' ELSE r.triggered_by END, NULL,
       CASE WHEN n.i % 10 = 0 THEN 'failed' ELSE 'succeeded' END,
       r.started_at - (@LAST@ + 1 - n.i) * 60, r.finished_at - (@LAST@ + 1 - n.i) * 60,
       r.version, r.host, r.pid, r.pid_start_time, r.params_json, r.pipeline_source
FROM n, run AS r WHERE r.id = 1;

INSERT INTO stage (run_id, name, kind, position, status, cache_key, cached_from, attempts, exit_code,
                   started_at, finished_at, log_path, reason, error, metrics_json, key_components_json)
SELECT n.i, s.name, s.kind, s.position, 'cached', s.cache_key, 1, s.attempts, s.exit_code,
       s.started_at - (@LAST@ + 1 - n.i) * 60, s.finished_at - (@LAST@ + 1 - n.i) * 60,
       s.log_path, s.reason, s.error, s.metrics_json, s.key_components_json
FROM n, stage AS s WHERE s.run_id = 1;

INSERT INTO output (run_id, stage, name, digest, kind, size, path)
SELECT n.i, o.stage, o.name, o.digest, o.kind, o.size, o.path
FROM n, output AS o WHERE o.run_id = 1;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
