import Foundation
import TestSupport
import Testing

/// The fixture pipeline of the Argo renderer's tests (every field it writes).
let argoExamplePipeline: String = {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("OrchestrationTests/Fixtures/example-pipeline.yaml").path
    return FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
}()

/// A YAML document as JSON objects, read by the venv's PyYAML (what Argo's CLI would read).
func yamlTree(_ yaml: String) throws -> [String: Any] {
    let folder = NSTemporaryDirectory() + "mlpipe-yaml-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try Data(yaml.utf8).write(to: URL(fileURLWithPath: folder + "/doc.yaml"))
    let result = try runProcess(WeedServer.venv + "/bin/python3",
                                ["-c", "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)",
                                 folder + "/doc.yaml"], in: folder)
    guard result.status == 0,
          let tree = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
        throw HarnessError(description: "not YAML: \(result)")
    }
    return tree
}

/// `mlpipe export argo` through the binary, on a real repository in a temporary folder.
@Suite("export argo through the binary")
struct ExportArgoTests {
    func exampleRepo() throws -> TempRepo {
        let repo = try TempRepo(files: ["pipelines/sweep.yaml": argoExamplePipeline, "data.csv": "a,b\n"])
        try repo.git("remote", "add", "origin", "https://git.example.com/team/sweep.git")
        return repo
    }

    @Test("the workflow has a task per stage and matrix instance, at HEAD's commit, with each stage's limits and secrets")
    func exportsWorkflow() throws {
        let repo = try exampleRepo()
        let head = try repo.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
        let result = try repo.mlpipe("export", "argo", "sweep", "--image", "registry.example.com/mlpipe:1",
                                     "--param", "epochs=5", "--store", "postgresql://mlpipe@db/mlpipe")
        #expect(result.status == 0, "\(result)")
        let tree = try yamlTree(result.stdout)
        #expect(tree["kind"] as? String == "Workflow")
        let templates = try #require((tree["spec"] as? [String: Any])?["templates"] as? [[String: Any]])
        let dag = try #require((templates[0]["dag"] as? [String: Any])?["tasks"] as? [[String: Any]])
        #expect(dag.map { $0["name"] as? String } == ["prepare", "train-lr-0-1", "train-lr-0-01", "evaluate"])
        #expect(dag.map { $0["dependencies"] as? [String] }
            == [nil, ["prepare"], ["prepare"], ["train-lr-0-01", "train-lr-0-1"]])
        let byName = Dictionary(uniqueKeysWithValues: templates.map { ($0["name"] as? String ?? "", $0) })
        let train = try #require(byName["train-lr-0-1"])
        let container = try #require(train["container"] as? [String: Any])
        #expect(container["image"] as? String == "registry.example.com/mlpipe:1")
        #expect(container["args"] as? [String] == [
            "run", "pipelines/sweep.yaml", "--only", "train[lr=0.1]", "--cached-upstream",
            "--remote", "s3://team-cache/mlpipe?endpoint=http://127.0.0.1:8333&region=us-east-1", "--remote-required",
            "--executor", "local", "--param", "epochs=5"])
        #expect(train["activeDeadlineSeconds"] as? String == "600")
        #expect((train["retryStrategy"] as? [String: Any])?["limit"] as? String == "2")
        #expect((container["resources"] as? [String: Any])?["limits"] as? [String: String]
            == ["cpu": "2", "memory": "2Gi", "nvidia.com/gpu": "1"])
        #expect(train["nodeSelector"] as? [String: String] == ["nvidia.com/gpu.present": "true", "kubernetes.io/arch": "amd64"])
        let git = try #require(((train["inputs"] as? [String: Any])?["artifacts"] as? [[String: Any]])?.first?["git"] as? [String: Any])
        #expect(git["revision"] as? String == head)
        #expect(git["repo"] as? String == "https://git.example.com/team/sweep.git")
        let env = try #require((byName["evaluate"]?["container"] as? [String: Any])?["env"] as? [[String: Any]])
        #expect(env.prefix(2).map { $0["name"] as? String } == ["MLPIPE_RUN_KEY", "MLPIPE_STORE"])
        #expect(env.first?["value"] as? String == "{{workflow.uid}}")
        let token = try #require(env.first { $0["name"] as? String == "API_TOKEN" })
        #expect(((token["valueFrom"] as? [String: Any])?["secretKeyRef"] as? [String: Any])?["name"] as? String == "mlpipe-team-sweep")
        #expect(token["value"] == nil)
        #expect(byName["evaluate"]?["activeDeadlineSeconds"] as? String == "90")
    }

    @Test("the rendered workflow and template pass mlpipe's schema of Argo's fields")
    func passesSchema() throws {
        let repo = try exampleRepo()
        for extra in [[], ["--template", "--git-credentials", "git-creds"]] {
            let result = try repo.mlpipe(arguments: ["export", "argo", "sweep", "-o", "wf.yaml"] + extra)
            #expect(result.status == 0, "\(result)")
            #expect(result.stderr.contains("wrote wf.yaml: 4 task(s) at commit"), "\(result)")
            let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("OrchestrationTests/Fixtures").path
            let check = try runProcess(WeedServer.venv + "/bin/python3",
                                       [fixtures + "/check_argo_workflow.py", fixtures + "/argo-workflow-subset.json",
                                        repo.path("wf.yaml")], in: repo.root)
            #expect(check.status == 0, "\(check)")
        }
    }

    @Test("without a remote, an origin, or with a secret a pod cannot read, export says what to do (exit 2)")
    func refusals() throws {
        let noRemote = try basicRepo()
        try noRemote.git("remote", "add", "origin", "https://git.example.com/demo.git")
        let missing = try noRemote.mlpipe("export", "argo")
        #expect(missing.status == 2, "\(missing)")
        #expect(missing.stderr.contains("share results through a remote cache, and pipelines/demo.yaml names none"), "\(missing)")

        let noOrigin = try TempRepo(files: ["pipelines/sweep.yaml": argoExamplePipeline, "data.csv": "a\n"])
        let orphan = try noOrigin.mlpipe("export", "argo")
        #expect(orphan.status == 2, "\(orphan)")
        #expect(orphan.stderr.contains("has no `origin` remote to clone from; add one (`git remote add origin URL`) or give the URL with --repo"),
                "\(orphan)")

        let fileSecret = try TempRepo(files: [
            "pipelines/sweep.yaml": argoExamplePipeline.replacingOccurrences(of: "{ env: API_TOKEN }", with: "{ file: .secrets/token }"),
            "data.csv": "a\n"])
        let refused = try fileSecret.mlpipe("export", "argo", "--repo", "https://git.example.com/x.git")
        #expect(refused.status == 2, "\(refused)")
        #expect(refused.stderr.contains("pipelines/sweep.yaml:8:3: error: secret API_TOKEN comes from { file: .secrets/token }, which a pod cannot read"),
                "\(refused)")

        let password = try noOrigin.mlpipe("export", "argo", "--repo", "https://x/y.git", "--store", "postgresql://u:hunter2@db/m")
        #expect(password.status == 2, "\(password)")
        #expect(!password.stderr.contains("hunter2") && password.stderr.contains("--store holds a password"), "\(password)")
    }

    @Test("--cached-upstream needs --only, and --executor takes local or kubernetes (exit 2)")
    func runFlags() throws {
        let repo = try basicRepo()
        let alone = try repo.mlpipe("run", "--cached-upstream")
        #expect(alone.status == 2)
        #expect(alone.stderr.contains("--cached-upstream takes the stages that --only stages need from the cache; give --only STAGE too"))
        let unknown = try repo.mlpipe("run", "--executor", "slurm")
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("unknown executor 'slurm'; use local or kubernetes"), "\(unknown)")
    }
}
