import Foundation
import TestSupport
import Testing

/// The history on a real PostgreSQL server through the built binary: `MLPIPE_STORE` (or
/// `--store`) points every history command at it, and workspaces that share nothing else
/// share the history.
extension PostgresServer {
    /// mlpipe's environment for `database`: the password reaches it through PGPASSWORD,
    /// as a team's CI would pass it.
    func mlpipeEnvironment(_ database: String) -> [String: String] {
        ["MLPIPE_STORE": url(database, withPassword: false), "PGPASSWORD": PostgresServer.password]
    }
}

@Suite("a shared run store on PostgreSQL")
struct PostgresStoreTests {

    /// The runs the workspace's own SQLite file holds (0 when there is no file).
    func sqliteRuns(_ repo: TempRepo) throws -> Int {
        let path = repo.path("workspace/mlpipe.db")
        guard FileManager.default.fileExists(atPath: path) else { return 0 }
        let tables = try runProcess("/usr/bin/sqlite3", [path, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'run'"], in: repo.root)
        guard tables.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1" else { return 0 }
        let count = try runProcess("/usr/bin/sqlite3", [path, "SELECT COUNT(*) FROM run"], in: repo.root)
        return Int(count.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    @Test("run, runs, runs show, runs diff, logs, status and rerun answer from PostgreSQL, and the SQLite file has no runs")
    func historyCommands() throws {
        let server = try PostgresServer()
        let database = try server.createDatabase()
        let env = server.mlpipeEnvironment(database)
        let repo = try basicRepo()

        let run = try repo.mlpipe("run", env: env)
        #expect(run.status == 0, "\(run)")
        #expect(try server.psql(database, "SELECT id || ' ' || status FROM run") == "1 succeeded")
        #expect(try server.psql(database, "SELECT string_agg(name || '=' || status, ',' ORDER BY position) FROM stage WHERE run_id = 1")
                == "prepare=succeeded,train=succeeded,evaluate=succeeded,docs=succeeded")

        let listed = try repo.mlpipe("runs", env: env)
        #expect(listed.status == 0 && listed.lines.count == 2 && listed.lines[1].hasPrefix("#1 "), "\(listed)")
        let shown = try repo.mlpipe("runs", "show", "latest", "--json", env: env)
        let object = try #require(try shown.json() as? [String: Any], "\(shown)")
        #expect(object["id"] as? Int == 1 && object["status"] as? String == "succeeded", "\(shown)")
        let logs = try repo.mlpipe("logs", "1", "train", env: env)
        #expect(logs.status == 0, "\(logs)")
        let status = try repo.mlpipe("status", "--exit-code", env: env)
        #expect(status.status == 0, "every stage is cached in the shared index: \(status)")

        let again = try repo.mlpipe("run", "--param", "factor=5", env: env)
        #expect(again.status == 0, "\(again)")
        #expect(try server.psql(database, "SELECT string_agg(name || '=' || status, ',' ORDER BY position) FROM stage WHERE run_id = 2")
                == "prepare=cached,train=succeeded,evaluate=succeeded,docs=cached")
        let diff = try repo.mlpipe("runs", "diff", "1", "2", env: env)
        #expect(diff.stdout.contains("param    factor: 2 -> 5"), "\(diff)")
        let rerun = try repo.mlpipe("rerun", "1", env: env)
        #expect(rerun.status == 0, "\(rerun)")
        #expect(try server.psql(database, "SELECT parent_run || ' ' || triggered_by FROM run WHERE id = 3") == "1 rerun")

        #expect(try sqliteRuns(repo) == 0, "the workspace's SQLite file holds no run")
        // The same history without the variable: the workspace's own, empty.
        #expect(try repo.mlpipe("runs").stdout == "no runs recorded yet; start one with `mlpipe run`\n")
        // And with --store instead of the variable.
        let viaOption = try repo.mlpipe("runs", "--store", server.url(database))
        #expect(viaOption.status == 0 && viaOption.lines.count == 4, "\(viaOption)")
        #expect(!viaOption.stdout.contains(PostgresServer.password) && !viaOption.stderr.contains(PostgresServer.password))
    }

    @Test("two clones, each with its own workspace, sharing one PostgreSQL see each other's runs")
    func twoWorkspaces() throws {
        let server = try PostgresServer()
        let database = try server.createDatabase()
        let env = server.mlpipeEnvironment(database)
        let first = try basicRepo()
        let second = try TempRepo()
        try second.git("pull", "-q", first.root, "main")

        #expect(try first.mlpipe("run", env: env).status == 0)
        let other = try second.mlpipe("run", env: env)
        #expect(other.status == 0, "\(other)")

        for repo in [first, second] {
            let listed = try repo.mlpipe("runs", "--json", env: env)
            let runs = try #require(try listed.json() as? [[String: Any]], "\(listed)")
            #expect(runs.compactMap { $0["id"] as? Int } == [2, 1], "\(listed)")
        }
        let shown = try first.mlpipe("runs", "show", "2", "--json", env: env)
        #expect(shown.status == 0, "the first clone shows the second's run: \(shown)")
        #expect(try sqliteRuns(first) == 0 && sqliteRuns(second) == 0)
    }

    @Test("a secret a stage uses never reaches the database")
    func secretsStayOut() throws {
        let server = try PostgresServer()
        let database = try server.createDatabase()
        let secret = "s3cr3t-value-only-in-env-4417"
        let pipeline = """
            version: 1
            name: k
            secrets:
              TOKEN: { env: MY_TOKEN }
            stages:
              use:
                run: echo "token is $TOKEN"; echo "$TOKEN" | wc -c > ${{ outputs.out }}; echo "fail with $TOKEN" >&2; exit 1
                outputs: { out: out.txt }
                secrets: [TOKEN]

            """
        let repo = try TempRepo(files: ["pipelines/k.yaml": pipeline])
        var env = server.mlpipeEnvironment(database)
        env["MY_TOKEN"] = secret
        let run = try repo.mlpipe("run", env: env)
        #expect(run.status == 1, "\(run)")
        #expect(try server.psql(database, "SELECT status FROM stage WHERE name = 'use'") == "failed")
        let dump = try server.dump(database)
        #expect(dump.contains("fail with") || dump.contains("exit"), "the dump holds the run: \(dump.prefix(200))")
        #expect(!dump.contains(secret), "the secret is in the database")
        #expect(!dump.contains(PostgresServer.password), "the store's password is in the database")
    }

    @Test("a store that cannot be reached is an environment error that shows its URL without the password")
    func unreachable() throws {
        let repo = try basicRepo()
        let port = try PostgresServer.freePort()
        let result = try repo.mlpipe("runs", env: ["MLPIPE_STORE": "postgresql://team:hunter2-pw@127.0.0.1:\(port)/history"])
        #expect(result.status == 3, "\(result)")
        #expect(result.stderr.contains("postgresql://team@127.0.0.1:\(port)/history"), "\(result)")
        #expect(!result.stderr.contains("hunter2-pw") && !result.stdout.contains("hunter2-pw"), "\(result)")
        let unknown = try repo.mlpipe("runs", env: ["MLPIPE_STORE": "mysql://team:hunter2-pw@db/history"])
        #expect(unknown.status == 2 && !unknown.stderr.contains("hunter2-pw"), "\(unknown)")
    }
}
