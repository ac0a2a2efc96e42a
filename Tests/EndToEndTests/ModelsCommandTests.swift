import Foundation
import Testing

/// Makes a tiny fake model package (a weights file and its mlpipe-model.json) and a
/// metrics file; `WEIGHTS` changes the package and so its digest.
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
        'source': {'commit': os.environ.get('COMMIT', ''), 'pipeline': 'iris', 'stage': 'package', 'runId': 1},
        'scan': {'verdict': 'safe', 'reportDigest': 'sha256:' + 'e' * 64, 'allow': []},
        'createdAt': '2026-11-30T12:00:00Z',
    }
    with open(os.path.join(package, 'mlpipe-model.json'), 'w') as f:
        f.write(json.dumps(manifest, indent=2, sort_keys=True) + '\\n')
    with open(metrics, 'w') as f:
        json.dump({'accuracy': 0.96, 'eval': {'f1': 0.9}}, f)

    """

private let imageDigest = "sha256:" + String(repeating: "ab", count: 32)

/// A pipeline that packages (a command stage) and registers with alias `staging`.
private func pipeline(weights: String = "v1") -> String {
    """
    version: 1
    name: iris
    env:
      WEIGHTS: \(weights)
    stages:
      package:
        run: python3 scripts/package.py ${{ outputs.package }} ${{ outputs.metrics }}
        inputs: [scripts/package.py, data/iris.csv]
        outputs: { package: package, metrics: metrics.json }
      register:
        kind: register
        with:
          name: iris
          package: ${{ stages.package.outputs.package }}
          image: 127.0.0.1:5000/iris@\(imageDigest)
          metrics: ${{ stages.package.outputs.metrics }}
          aliases: [staging]

    """
}

/// A repository whose one pipeline, `iris`, packages (a command stage with inputs
/// `scripts/package.py` and `data/iris.csv`) and registers the package with alias `staging`.
func registryRepo() throws -> TempRepo {
    try TempRepo(files: ["scripts/package.py": packageScript, "data/iris.csv": "5.1,3.5,1.4,0.2,0\n",
                         "pipelines/iris.yaml": pipeline()])
}

/// `sha256:<hex>` of a file, by sha256sum.
private func sha256(_ path: String) throws -> String {
    let result = try runProcess("/usr/bin/sha256sum", [path], in: "/")
    return "sha256:" + (result.stdout.split(separator: " ").first.map(String.init) ?? "")
}

/// What `models lineage iris@1` prints once run #1 of `registryRepo()`'s pipeline, at
/// HEAD, registered version 1: the chain from the commit through both inputs (their git
/// object ids), the scan, the package and the image.
func registryLineage(_ repo: TempRepo) throws -> [String] {
    let commit = try repo.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
    let data = try repo.git("rev-parse", "HEAD:data/iris.csv").trimmingCharacters(in: .whitespacesAndNewlines)
    let script = try repo.git("rev-parse", "HEAD:scripts/package.py").trimmingCharacters(in: .whitespacesAndNewlines)
    let package = try sha256(repo.path("workspace/runs/1/package/package/mlpipe-model.json"))
    return [
        "  commit                   \(commit)",
        "→ pipeline                 iris (run #1, stage register)",
        "→ input data/iris.csv      \(data)",
        "→ input scripts/package.py \(script)",
        "→ scan                     safe, report sha256:\(String(repeating: "e", count: 64))",
        "→ package                  \(package)",
        "→ image                    127.0.0.1:5000/iris@\(imageDigest)",
        "→ version                  iris@1",
    ]
}

/// Runs mlpipe and requires exit 0.
@discardableResult
private func succeed(_ repo: TempRepo, _ args: String..., env: [String: String] = [:]) throws -> Outcome {
    let result = try repo.mlpipe(arguments: args, env: env)
    guard result.status == 0 else { throw HarnessError(description: "mlpipe \(args.joined(separator: " ")): \(result)") }
    return result
}

@Suite("mlpipe models")
struct ModelsCommandTests {
    @Test("a run registers the package, and `models list` and `show --json` report the version")
    func registerAndShow() throws {
        let repo = try registryRepo()
        try succeed(repo, "run")
        let results = try #require(try repo.stages()["register"]?["results"] as? [String: Any])
        #expect(results["version"] as? Int == 1 && results["name"] as? String == "iris")
        #expect(results["uri"] as? String == "models:/iris/1")

        let list = try #require(try succeed(repo, "models", "list", "--json").json() as? [[String: Any]])
        #expect(list.count == 1)
        #expect(list.first?["name"] as? String == "iris" && list.first?["latestVersion"] as? Int == 1)
        #expect(list.first?["aliases"] as? [String: Int] == ["staging": 1])
        let table = try succeed(repo, "models", "list").lines
        #expect(table.count == 2 && table[1].hasPrefix("iris ") && table[1].hasSuffix(" staging=1"), "\(table)")

        let show = try #require(try succeed(repo, "models", "show", "iris@staging", "--json").json() as? [String: Any])
        let commit = try repo.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(show["name"] as? String == "iris" && show["version"] as? Int == 1)
        #expect(show["aliases"] as? [String] == ["staging"])
        #expect(show["packageDigest"] as? String == (try sha256(repo.path("workspace/runs/1/package/package/mlpipe-model.json"))))
        #expect(show["imageDigest"] as? String == imageDigest)
        #expect(show["image"] as? String == "127.0.0.1:5000/iris@\(imageDigest)")
        #expect(show["runId"] as? Int == 1 && show["commit"] as? String == commit)
        #expect(show["metrics"] as? [String: Double] == ["accuracy": 0.96, "eval.f1": 0.9])
        #expect((show["createdAt"] as? String)?.hasPrefix("20") == true)
    }

    @Test("the same package keeps its version; a new one moves staging, and history says who held it when")
    func aliasHistory() throws {
        let repo = try registryRepo()
        try succeed(repo, "run")
        try succeed(repo, "run")
        let once = try succeed(repo, "models", "history", "iris@staging").lines
        #expect(once.count == 2 && once.first == "iris@staging: 1 move, now version 1", "\(once)")
        try repo.write("pipelines/iris.yaml", pipeline(weights: "v2"))
        try repo.commit("new weights")
        try succeed(repo, "run")

        let history = try succeed(repo, "models", "history", "iris@staging").lines
        #expect(history.first == "iris@staging: 2 moves, now version 2", "\(history)")
        #expect(history.count == 3 && history[1].contains("-> 1    run #1, commit ") && history[2].contains("-> 2    run #3, commit "),
                "\(history)")
        let json = try #require(try succeed(repo, "models", "history", "iris@staging", "--json").json() as? [String: Any])
        let moves = try #require(json["moves"] as? [[String: Any]])
        let times = try moves.map { try #require(ISO8601DateFormatter.fractional.date(from: $0["movedAt"] as? String ?? "")) }
        let between = times[0].addingTimeInterval(times[1].timeIntervalSince(times[0]) / 2)
        let at = try succeed(repo, "models", "history", "iris@staging", "--at", ISO8601DateFormatter.fractional.string(from: between))
        #expect(at.lines.count == 1 && at.lines[0].contains(": version 1 (since "), "\(at)")
        let before = try succeed(repo, "models", "history", "iris@staging", "--at", "2001-01-01")
        #expect(before.lines.first?.hasPrefix("iris@staging did not exist at 2001-01-01 00:00:00") == true, "\(before)")
        let newest = try #require(try succeed(repo, "models", "show", "iris", "--json").json() as? [String: Any])
        #expect(newest["version"] as? Int == 2 && newest["aliases"] as? [String] == ["staging"])
    }

    @Test("`models alias` moves an alias by hand, and its history records the user and commit")
    func aliasByHand() throws {
        let repo = try registryRepo()
        try succeed(repo, "run")
        let moved = try succeed(repo, "models", "alias", "iris", "1", "prod", env: ["USER": "alice"])
        #expect(moved.lines == ["iris@prod -> version 1 (new)"])
        let again = try succeed(repo, "models", "alias", "iris", "1", "prod", env: ["USER": "alice"])
        #expect(again.lines == ["iris@prod -> version 1 (unchanged)"])
        let commit = try repo.git("rev-parse", "--short=7", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
        let history = try succeed(repo, "models", "history", "iris@prod").lines
        #expect(history.count == 2 && history[1].hasSuffix("-> 1    by hand, commit \(commit), by alice"), "\(history)")
        let missing = try repo.mlpipe("models", "alias", "iris", "7", "prod")
        #expect(missing.status == 2)
        #expect(missing.errorLines == ["mlpipe: error: model 'iris' has no version 7 in the local registry; its versions are 1"])
    }

    @Test("lineage prints the chain from the commit through inputs, scan, package and image to the version")
    func lineage() throws {
        let repo = try registryRepo()
        try succeed(repo, "run")
        let lines = try succeed(repo, "models", "lineage", "iris@1").lines
        #expect(lines == (try registryLineage(repo)))
    }

    @Test("an unknown model, version or alias exits 2 with a did-you-mean")
    func unknownNames() throws {
        let repo = try registryRepo()
        try succeed(repo, "run")
        let model = try repo.mlpipe("models", "show", "irsi")
        #expect(model.status == 2)
        #expect(model.errorLines == ["mlpipe: error: no model 'irsi' in the local registry; did you mean 'iris'?"])
        let alias = try repo.mlpipe("models", "lineage", "iris@stagin")
        #expect(alias.status == 2)
        #expect(alias.errorLines == ["mlpipe: error: model 'iris' has no alias 'stagin' in the local registry; did you mean 'staging'?"])
        let history = try repo.mlpipe("models", "history", "iris@prod")
        #expect(history.status == 2)
        #expect(history.errorLines == ["mlpipe: error: model 'iris' has no alias 'prod' in the local registry; "
                                       + "set it with `mlpipe models alias iris VERSION prod`"])
        let bad = try repo.mlpipe("models", "show", "iris@latest!")
        #expect(bad.status == 2 && bad.stderr.contains("'latest!' is not an alias"))
    }

    @Test("an MLflow server that cannot be reached exits 3 and is named")
    func unreachableServer() throws {
        let repo = try registryRepo()
        let url = "http://127.0.0.1:9"
        let result = try repo.mlpipe("models", "list", "--tracking-uri", url)
        #expect(result.status == 3)
        #expect(result.stderr.hasPrefix("mlpipe: error: cannot reach the MLflow tracking server at \(url) "), "\(result)")
    }

    @Test("lint reports register settings that cannot work, at their place in the file")
    func lintSettings() throws {
        let repo = try TempRepo(files: ["pipelines/iris.yaml": """
            version: 1
            name: iris
            stages:
              register:
                kind: register
                with:
                  name: iris
                  package: pkg
                  aliases: [latest]
                  image: 127.0.0.1:5000/iris:v1

            """])
        let result = try repo.mlpipe("lint")
        #expect(result.status == 2)
        #expect(result.stderr.contains("pipelines/iris.yaml:9:"), "\(result)")
        #expect(result.stderr.contains("'latest' is reserved and cannot be an alias"), "\(result)")
        #expect(result.stderr.contains("'127.0.0.1:5000/iris:v1' is not an image by digest"), "\(result)")
    }
}

extension ISO8601DateFormatter {
    /// ISO 8601 with fractional seconds, as `--json` prints times.
    static var fractional: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
