import Foundation
import Testing

/// validate -> serialize (package) -> a command that reads the package's digest.
private let packagePipeline = """
    version: 1
    name: iris
    stages:
      validate:
        kind: validate
        inputs: [models/iris.onnx]
        with: { model: models/iris.onnx, format: onnx }
        outputs: { report: report.json }
      package:
        kind: serialize
        inputs: [models/iris.onnx]
        with:
          model: models/iris.onnx
          name: iris
          report: ${{ stages.validate.outputs.report }}
          metadata: { team: ml }
        outputs: { package: package }
      announce:
        run: echo ${{ stages.package.results.digest }} > ${{ outputs.digest }}
        outputs: { digest: digest.txt }

    """

/// A repository with the pipeline and a real ONNX model, committed.
private func packageRepo(pipeline: String = packagePipeline) throws -> TempRepo {
    let repo = try TempRepo(files: ["pipelines/iris.yaml": pipeline], commit: false)
    try makeONNX(at: repo.path("models/iris.onnx"))
    try repo.commit("model and pipeline")
    return repo
}

/// `sha256:<hex>` of a file, by coreutils.
private func sha256(_ path: String) throws -> String {
    let result = try runProcess("/usr/bin/sha256sum", [path], in: "/")
    guard result.status == 0, let hex = result.stdout.split(separator: " ").first else {
        throw HarnessError(description: "sha256sum \(path) failed: \(result)")
    }
    return "sha256:" + hex
}

/// Every file under `root`, relative path -> bytes.
private func tree(_ root: String) throws -> [String: Data] {
    var files: [String: Data] = [:]
    let enumerator = FileManager.default.enumerator(atPath: root)
    while let relative = enumerator?.nextObject() as? String {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: root + "/" + relative, isDirectory: &isFolder), !isFolder.boolValue {
            files[relative] = try Data(contentsOf: URL(fileURLWithPath: root + "/" + relative))
        }
    }
    return files
}

@Suite("the serialize stage")
struct SerializeTests {
    @Test("validate -> serialize packages a real ONNX model; its digest reaches a later stage, also from a cache hit")
    func packagesAndHandsOnItsDigest() throws {
        let repo = try packageRepo()
        let first = try repo.mlpipe("run")
        #expect(first.status == 0, "\(first)")
        #expect(try repo.statuses() == ["validate": "succeeded", "package": "succeeded", "announce": "succeeded"])

        let packageRoot = repo.path("workspace/runs/1/package/package")
        let digest = try sha256(packageRoot + "/mlpipe-model.json")
        #expect(repo.read("workspace/runs/1/announce/digest.txt") == digest + "\n")
        let results = try #require(try repo.stages()["package"]?["results"] as? [String: Any])
        #expect(results["digest"] as? String == digest)
        #expect(results["format"] as? String == "onnx" && results["flavor"] as? String == "onnx")
        #expect(results["name"] as? String == "iris")
        #expect(try tree(packageRoot).keys.sorted() == ["mlpipe-model.json", "model/iris.onnx"])

        let manifestText = try #require(repo.read("workspace/runs/1/package/package/mlpipe-model.json"))
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(manifestText.utf8)) as? [String: Any])
        let head = try repo.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
        let source = try #require(manifest["source"] as? [String: Any])
        #expect(source["commit"] as? String == head && source["runId"] as? Int == 1)
        #expect(source["pipeline"] as? String == "iris" && source["stage"] as? String == "package")
        let time = try repo.git("show", "-s", "--format=%ct", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
        let iso = try runProcess("/usr/bin/date", ["-u", "-d", "@" + time, "+%Y-%m-%dT%H:%M:%SZ"], in: "/")
        #expect(manifest["createdAt"] as? String == iso.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        let scan = try #require(manifest["scan"] as? [String: Any])
        #expect(scan["verdict"] as? String == "safe")
        #expect(scan["reportDigest"] as? String == (try sha256(repo.path("workspace/runs/1/validate/report.json"))))
        let inputs = (manifest["signature"] as? [String: Any])?["inputs"] as? [[String: Any]]
        #expect(inputs?.first?["name"] as? String == "x" && inputs?.first?["datatype"] as? String == "FP32")
        #expect(inputs?.first?["shape"] as? [Int] == [-1, 4])
        #expect(manifest["requirements"] as? [String] == ["numpy==2.4.6", "onnxruntime==1.32.0"])
        let files = try #require(manifest["files"] as? [[String: Any]])
        #expect(files.first?["sha256"] as? String == (try sha256(repo.path("models/iris.onnx"))))

        // Second run: the package is a cache hit, restored file for file, with the same digest.
        let second = try repo.mlpipe("run", "--force", "announce")
        #expect(second.status == 0, "\(second)")
        #expect(try repo.statuses() == ["validate": "cached", "package": "cached", "announce": "succeeded"])
        #expect(try tree(repo.path("workspace/runs/2/package/package")) == (try tree(packageRoot)))
        #expect(repo.read("workspace/runs/2/announce/digest.txt") == digest + "\n")
        let cached = try #require(try repo.stages()["package"]?["results"] as? [String: Any])
        #expect(cached["digest"] as? String == digest)
    }

    @Test("an unsafe model is not packaged: serialize fails with the finding, naming the file")
    func unsafeModelFails() throws {
        let train = "import os, pickle, sys\nclass Evil:\n    def __reduce__(self):\n        return (os.system, ('true',))\n"
            + "open(sys.argv[1], 'wb').write(pickle.dumps(Evil(), protocol=2))\n"
        let repo = try TempRepo(files: ["scripts/train.py": train, "pipelines/p.yaml": """
            version: 1
            name: p
            stages:
              train:
                run: python3 scripts/train.py ${{ outputs.model }}
                outputs: { model: model.pkl }
              package:
                kind: serialize
                with: { model: "${{ stages.train.outputs.model }}", name: evil }
                outputs: { package: package }

            """])
        let result = try repo.mlpipe("run")
        #expect(result.status == 1, "\(result)")
        #expect(result.lines.contains { $0.contains(" package ") && $0.contains(
            "workspace/runs/1/train/model.pkl: unsafe: GLOBAL imports posix.system, which runs code or commands (at byte 2)")
        }, "\(result)")
        #expect(repo.read("workspace/runs/1/package/package/mlpipe-model.json") == nil)
    }

    @Test("a typo'd key and a value of the wrong type in with: are reported at their line and column")
    func lintErrors() throws {
        let broken = packagePipeline
            .replacingOccurrences(of: "      name: iris\n", with: "      nmae: iris\n")
            .replacingOccurrences(of: "metadata: { team: ml }", with: "metadata: [team, ml]")
        let repo = try TempRepo(files: ["pipelines/iris.yaml": broken])
        let result = try repo.mlpipe("lint")
        #expect(result.status == 2, "\(result)")
        #expect(result.errorLines.contains(
            "pipelines/iris.yaml:14:7: error: unknown `with:` key 'nmae' for kind 'serialize'; did you mean 'name'?"),
                "\(result)")
        #expect(result.errorLines.contains(
            "pipelines/iris.yaml:16:17: error: with.metadata: [\"team\",\"ml\"] is not a mapping of labels; "
                + "write for example { team: vision, dataset: iris-v2 }"), "\(result)")
        #expect(result.errorLines.contains { $0.hasPrefix("pipelines/iris.yaml:") && $0.contains("key 'name'")
                    && $0.contains("required by kind 'serialize'") }, "\(result)")
    }
}
