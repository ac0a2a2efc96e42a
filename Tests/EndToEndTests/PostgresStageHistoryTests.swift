import Foundation
import TestSupport
import Testing

/// Stage kinds that read the run history (a register stage's lineage inputs, a deploy's
/// package folder) read it from the run's own store: with `MLPIPE_STORE` on PostgreSQL,
/// the workspace's SQLite file holds none of it.
@Suite("stages that read the run history, on a PostgreSQL store", .serialized)
struct PostgresStageHistoryTests {
    @Test("a register stage records the inputs of its run in the lineage, as under SQLite")
    func lineageInputs() throws {
        let server = try PostgresServer()
        let database = try server.createDatabase()
        let env = server.mlpipeEnvironment(database)
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
        let env = server.mlpipeEnvironment(database)
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

    @Test("`models --store URL` reads the registry on PostgreSQL, as MLPIPE_STORE does, and never prints the password")
    func modelsStoreOption() throws {
        let server = try PostgresServer()
        let database = try server.createDatabase()
        let repo = try registryRepo()
        let run = try repo.mlpipe("run", env: server.mlpipeEnvironment(database))
        #expect(run.status == 0, "\(run)")

        let listed = try repo.mlpipe("models", "list", "--json", "--store", server.url(database))
        let models = try #require(try listed.json() as? [[String: Any]], "\(listed)")
        #expect(models.first?["name"] as? String == "iris" && models.first?["latestVersion"] as? Int == 1, "\(listed)")
        let shown = try repo.mlpipe("models", "show", "iris@staging", "--store", server.url(database))
        #expect(shown.status == 0 && shown.lines.first == "iris@1  aliases: staging", "\(shown)")
        for result in [listed, shown] {
            #expect(!result.stdout.contains(PostgresServer.password) && !result.stderr.contains(PostgresServer.password))
        }
        // Without the option, the workspace's own file, which holds no model.
        let local = try repo.mlpipe("models", "list", "--json")
        let none = try local.json() as? [Any]
        #expect(local.status == 0 && none?.isEmpty == true, "\(local)")
    }
}
