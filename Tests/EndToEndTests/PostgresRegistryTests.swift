import Foundation
import TestSupport
import Testing

/// Makes a tiny model package (a weights file and its mlpipe-model.json) and a metrics
/// file; `WEIGHTS` changes the package and so its digest.
private let packageScript = """
    import json, os, sys
    package, metrics = sys.argv[1], sys.argv[2]
    os.makedirs(os.path.join(package, 'model'), exist_ok=True)
    weights = os.environ['WEIGHTS']
    with open(os.path.join(package, 'model', 'model.onnx'), 'w') as f:
        f.write(weights)
    manifest = {
        'schema': 'mlpipe-model/v1', 'name': 'iris', 'format': 'onnx', 'flavor': 'onnx', 'model': 'model/model.onnx',
        'files': [], 'signature': None, 'requirements': [], 'metadata': {'weights': weights},
        'source': {'commit': '', 'pipeline': 'iris', 'stage': 'package', 'runId': 1},
        'scan': {'verdict': 'safe', 'reportDigest': 'sha256:' + 'e' * 64, 'allow': []},
        'createdAt': '2026-11-30T12:00:00Z',
    }
    with open(os.path.join(package, 'mlpipe-model.json'), 'w') as f:
        f.write(json.dumps(manifest, indent=2, sort_keys=True) + '\\n')
    with open(metrics, 'w') as f:
        json.dump({'accuracy': 0.96}, f)

    """

/// A pipeline that packages weights `weights` and registers them with alias `staging`.
private func registerPipeline(weights: String) -> String {
    """
    version: 1
    name: iris
    env:
      WEIGHTS: \(weights)
    stages:
      package:
        run: python3 scripts/package.py ${{ outputs.package }} ${{ outputs.metrics }}
        inputs: [scripts/package.py]
        outputs: { package: package, metrics: metrics.json }
      register:
        kind: register
        with:
          name: iris
          package: ${{ stages.package.outputs.package }}
          metrics: ${{ stages.package.outputs.metrics }}
          aliases: [staging]

    """
}

/// The model registry through the built binary when `MLPIPE_STORE` names PostgreSQL.
@Suite("the model registry on a shared PostgreSQL store, end to end")
struct PostgresRegistryEndToEndTests {
    @Test("two clones sharing one PostgreSQL number their models' versions in one registry")
    func twoClonesOneRegistry() throws {
        let server = try PostgresServer()
        let database = try server.createDatabase()
        let env = server.mlpipeEnvironment(database)
        let first = try TempRepo(files: ["scripts/package.py": packageScript,
                                         "pipelines/iris.yaml": registerPipeline(weights: "v1")])
        let second = try TempRepo()
        try second.git("pull", "-q", first.root, "main")
        try second.write("pipelines/iris.yaml", registerPipeline(weights: "v2"))
        try second.commit("new weights")

        let one = try first.mlpipe("run", env: env)
        #expect(one.status == 0, "\(one)")
        let two = try second.mlpipe("run", env: env)
        #expect(two.status == 0, "\(two)")
        #expect(try server.psql(database, "SELECT string_agg(name || '@' || version, ',' ORDER BY version) FROM model_version")
                == "iris@1,iris@2")

        let listed = try first.mlpipe("models", "list", "--json", env: env)
        let models = try #require(try listed.json() as? [[String: Any]], "\(listed)")
        #expect(models.first?["latestVersion"] as? Int == 2 && models.first?["aliases"] as? [String: Int] == ["staging": 2],
                "the first clone sees the second's version and alias move: \(listed)")
        let history = try first.mlpipe("models", "history", "iris@staging", env: env)
        #expect(history.lines.first == "iris@staging: 2 moves, now version 2", "\(history)")
        #expect(!history.stdout.contains(PostgresServer.password) && !history.stderr.contains(PostgresServer.password))
        // Without the variable, the workspace's own file, which holds no model.
        let local = try first.mlpipe("models", "list", "--json")
        let none = try local.json() as? [Any]
        #expect(local.status == 0 && none?.isEmpty == true, "\(local)")
    }
}
