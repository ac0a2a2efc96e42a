import Foundation
import TestSupport
import Testing

/// Stage kinds that read the run history (a register stage's lineage inputs, a deploy's
/// package folder) read it from the run's own store: with `MLPIPE_STORE` on PostgreSQL,
/// the workspace's SQLite file holds none of it.
@Suite("stages that read the run history, on a PostgreSQL store", .serialized)
struct PostgresStageHistoryTests {
    /// The password reaches mlpipe through PGPASSWORD, as a team's CI would pass it.
    func environment(_ server: PostgresServer, _ database: String) -> [String: String] {
        ["MLPIPE_STORE": server.url(database, withPassword: false), "PGPASSWORD": PostgresServer.password]
    }

    @Test("a register stage records the inputs of its run in the lineage, as under SQLite")
    func lineageInputs() throws {
        let server = try PostgresServer()
        let database = try server.createDatabase()
        let env = environment(server, database)
        let repo = try registryRepo()
        let run = try repo.mlpipe("run", env: env)
        #expect(run.status == 0, "\(run)")
        let lineage = try repo.mlpipe("models", "lineage", "iris@1", env: env)
        #expect(lineage.status == 0, "\(lineage)")
        #expect(lineage.lines == (try registryLineage(repo)), "\(lineage)")
    }

    @Test("a later run deploys the version an earlier run registered, finding its package in the PostgreSQL store")
    func deployEarlierVersion() throws {
        let server = try PostgresServer()
        let database = try server.createDatabase()
        let env = environment(server, database)
        let fixture = try DeployRepo()
        defer { fixture.stopAll() }
        let first = try fixture.run(scale: "1", ["--only", "register"], env: env)
        #expect(first.status == 0, "\(first)")
        let second = try fixture.run(scale: "1", env: env)
        #expect(second.status == 0, "\(second)")
        #expect(try server.psql(database, "SELECT string_agg(name || '=' || status, ',' ORDER BY position) FROM stage WHERE run_id = 2")
                == "package=cached,register=cached,deploy=succeeded")

        let shown = try fixture.repo.mlpipe("runs", "show", "2", "--json", env: env)
        let stages = try #require((try shown.json() as? [String: Any])?["stages"] as? [[String: Any]], "\(shown)")
        let results = try #require(stages.first { $0["name"] as? String == "deploy" }?["results"] as? [String: Any], "\(shown)")
        #expect(results["version"] as? Int == 1, "\(shown)")
        let endpoint = try #require(results["endpoint"] as? String, "\(shown)")
        #expect(try fixture.infer(endpoint) == [10, 10, 10])
    }
}
