import Foundation
import TestSupport
import Testing

/// A real `mlflow server` (PyPI `mlflow`, from the serving venv) on 127.0.0.1 on a free
/// port, with a SQLite store in a temporary folder; started by a test and stopped by it,
/// by its process group.
private struct MLflowTrackingServer {
    /// `http://127.0.0.1:PORT`.
    let uri: String
    let pid: pid_t
    let folder: String

    /// Starts a server and waits (up to `deadline` seconds) until `/health` answers 200.
    static func start(deadline: Double = 300) throws -> MLflowTrackingServer {
        let mlflow = servingVenv + "/bin/mlflow"
        guard FileManager.default.isExecutableFile(atPath: mlflow) else {
            throw HarnessError(description: "mlflow is not installed: \(mlflow) is missing; run `make venv`")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mlflow-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let port = try TestServers.freePort()
        let pid = try TestServers.spawn(mlflow, [
            "server", "--host", "127.0.0.1", "--port", String(port), "--workers", "1",
            "--backend-store-uri", "sqlite:///\(folder)/mlflow.db", "--default-artifact-root", folder + "/artifacts",
        ], log: folder + "/server.log")
        let server = MLflowTrackingServer(uri: "http://127.0.0.1:\(port)", pid: pid, folder: folder)
        let end = Date().addingTimeInterval(deadline)
        while Date() < end {
            if TestServers.httpStatus(port: port, path: "/health") == 200 { return server }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                throw HarnessError(description: "mlflow server exited before it answered; its log:\n"
                                   + TestServers.tail(of: folder + "/server.log"))
            }
            usleep(200_000)
        }
        server.stop()
        throw HarnessError(description: "mlflow server did not answer /health within \(Int(deadline)) s; its log:\n"
                           + TestServers.tail(of: folder + "/server.log"))
    }

    /// Ends the server's process group and removes its folder.
    func stop() {
        TestServers.stopGroup(pid)
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// The version MLflow says `alias` of `model` points at, read through its REST API
    /// (`GET /api/2.0/mlflow/registered-models/alias`), or nil when it has no such alias.
    func aliasVersion(_ model: String, _ alias: String, in folder: String) throws -> String? {
        let script = """
            import json, sys, urllib.error, urllib.parse, urllib.request
            query = urllib.parse.urlencode({'name': sys.argv[2], 'alias': sys.argv[3]})
            try:
                answer = json.load(urllib.request.urlopen(sys.argv[1] + '/api/2.0/mlflow/registered-models/alias?' + query, timeout=10))
                print(answer['model_version']['version'])
            except urllib.error.HTTPError as error:
                print('HTTP', error.code)
            """
        let result = try runProcess(servingVenv + "/bin/python", ["-c", script, uri, model, alias], in: folder)
        guard result.status == 0 else { throw HarnessError(description: "reading the alias from MLflow: \(result)") }
        let answer = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return answer.hasPrefix("HTTP") ? nil : answer
    }
}

/// The smoke test after the deploy: X = [1, 2, 3, 4] must give y = 10 each (a scale-1
/// model), within 0.01.
private let smokeStage = """
      smoke:
        kind: smoke-test
        with:
          endpoint: ${{ stages.deploy.results.endpoint }}
          requests: smoke/requests.jsonl
          rate: 50
          count: 10
          concurrency: 2
          thresholds: { p99: 5s, error_rate: 0 }

    """

private let requests = """
    {"body": {"inputs": [{"name": "X", "datatype": "FP32", "shape": [1, 4], "data": [1, 2, 3, 4]}]}, "status": 200, \
    "expect": {"outputs.y.data": {"value": [10, 10, 10], "tolerance": 0.01}}}

    """

/// The deploy fixture's pipeline with the version registered in MLflow at `register`
/// and deployed from MLflow at `deploy` (the same server unless a test says otherwise),
/// `model` the deploy's reference.
private func mlflowRepo(register: String, deploy: String? = nil, model: String = "scaler@staging") throws -> DeployRepo {
    let pipeline = deployPipeline(extra: smokeStage)
        .replacingOccurrences(of: "aliases: [staging] }",
                              with: "aliases: [staging], backend: mlflow, tracking_uri: \"\(register)\" }")
        .replacingOccurrences(of: "      promote: production\n", with: """
                  promote: production
                  registry: { backend: mlflow, tracking_uri: "\(deploy ?? register)" }

            """)
        .replacingOccurrences(of: "model: scaler@staging", with: "model: \(model)")
    return try DeployRepo(pipeline: pipeline, files: ["smoke/requests.jsonl": requests])
}

/// Whether something accepts a connection at `endpoint`'s port.
private func answers(_ endpoint: String) -> Bool {
    guard let port = UInt16(endpoint.split(separator: ":").last ?? "") else { return false }
    return TestServers.accepts(port: port)
}

@Suite("kind: deploy and smoke-test with a version registered in MLflow", .serialized)
struct DeployMLflowTests {
    @Test("a good model registered in MLflow deploys from there and passes its smoke test; the MLflow alias moves to it")
    func goodModelFromMLflow() throws {
        let server = try MLflowTrackingServer.start()
        defer { server.stop() }
        let fixture = try mlflowRepo(register: server.uri)
        defer { fixture.stopAll() }

        let run = try fixture.run(scale: "1")
        #expect(run.status == 0, "\(run)")
        #expect(try fixture.repo.statuses()["smoke"] == "succeeded")
        let log = try fixture.repo.mlpipe("logs", "1", "deploy")
        #expect(log.stdout.contains("deploy: scaler@staging is scaler@1 in the MLflow registry at \(server.uri)"), "\(log)")

        let listed = try fixture.deployments()
        #expect(listed.map { $0["state"] as? String } == ["serving"])
        #expect(listed.first?["aliasRegistry"] as? String == "mlflow:" + server.uri)
        let endpoint = try #require(listed.first?["endpoint"] as? String)
        #expect(try fixture.infer(endpoint) == [10, 10, 10])
        #expect(try server.aliasVersion("scaler", "production", in: fixture.repo.root) == "1")

        let history = try fixture.repo.mlpipe("models", "history", "scaler@production", "--tracking-uri", server.uri, "--json")
        let moves = try #require((try history.json() as? [String: Any])?["moves"] as? [[String: Any]], "\(history)")
        #expect(moves.map { $0["version"] as? Int } == [1])
    }

    @Test("a model from MLflow that answers wrongly fails its smoke test: the earlier version answers, MLflow's alias is back on it")
    func wrongModelRollsBackInMLflow() throws {
        let server = try MLflowTrackingServer.start()
        defer { server.stop() }
        let fixture = try mlflowRepo(register: server.uri)
        defer { fixture.stopAll() }
        let first = try fixture.run(scale: "1")
        #expect(first.status == 0, "\(first)")
        let good = try #require(try fixture.deployments().first?["endpoint"] as? String)
        #expect(try server.aliasVersion("scaler", "production", in: fixture.repo.root) == "1")

        let second = try fixture.run(scale: "2")
        #expect(second.status == 1, "\(second)")
        #expect(try fixture.repo.statuses()["smoke"] == "failed")
        #expect(second.stdout.contains("rolled back")
                && second.stdout.contains("alias production back to 1 in the MLflow registry at \(server.uri)"), "\(second)")

        let listed = try fixture.deployments()
        #expect(listed.map { $0["state"] as? String } == ["serving", "rolled-back"])
        #expect(listed.map { $0["version"] as? Int } == [1, 2])
        #expect(try fixture.infer(good) == [10, 10, 10])
        #expect(!answers(try #require(listed.last?["endpoint"] as? String)))
        #expect(try server.aliasVersion("scaler", "production", in: fixture.repo.root) == "1")
        #expect(try server.aliasVersion("scaler", "staging", in: fixture.repo.root) == "2")

        let history = try fixture.repo.mlpipe("models", "history", "scaler@production", "--tracking-uri", server.uri, "--json")
        let moves = try #require((try history.json() as? [String: Any])?["moves"] as? [[String: Any]], "\(history)")
        #expect(moves.map { $0["version"] as? Int } == [1, 2, 1])
        // The local registry was not touched: the version is MLflow's only.
        let local = try fixture.repo.mlpipe("models", "history", "scaler@production")
        #expect(local.status == 2, "\(local)")
    }

    @Test("deploying an unknown MLflow alias, or from a tracking server that does not answer, fails with where and how to fix it")
    func errorsSayWhereAndHow() throws {
        let server = try MLflowTrackingServer.start()
        defer { server.stop() }
        let unknown = try mlflowRepo(register: server.uri, model: "scaler@stagin")
        defer { unknown.stopAll() }
        let run = try unknown.run(scale: "1")
        #expect(run.status == 1, "\(run)")
        #expect(try unknown.repo.statuses()["deploy"] == "failed")
        #expect(run.stdout.contains("deploy: cannot resolve scaler@stagin in the MLflow registry at \(server.uri): model "
                                    + "'scaler' has no alias 'stagin' in the MLflow registry at \(server.uri); "
                                    + "did you mean 'staging'?"), "\(run)")

        let dead = "http://127.0.0.1:\(try TestServers.freePort())"
        let unreachable = try mlflowRepo(register: server.uri, deploy: dead)
        defer { unreachable.stopAll() }
        let again = try unreachable.run(scale: "1")
        #expect(again.status == 1, "\(again)")
        #expect(again.stdout.contains("deploy: cannot resolve scaler@staging in the MLflow registry at \(dead): cannot "
                                      + "reach the MLflow tracking server at \(dead)"), "\(again)")
        #expect(again.stdout.contains("check that the server runs and that tracking_uri is right"), "\(again)")
        #expect(try unreachable.deployments().isEmpty)
    }
}
