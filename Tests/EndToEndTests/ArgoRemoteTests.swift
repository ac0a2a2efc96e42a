import Foundation
import TestSupport
import Testing

/// What the pods of an exported workflow, and a stage on Kubernetes, do with a real
/// SeaweedFS remote: no cluster runs here, so a fake kubectl "runs" a Job by running its
/// container's command (this mlpipe) in a fresh clone, with the Job's environment.
@Suite("Argo export and Kubernetes Jobs against a real S3 remote", .weedServer)
struct ArgoRemoteTests {
    var server: WeedServer { WeedServerTrait.current! }

    func bucket() throws -> String {
        let name = "a" + UUID().uuidString.prefix(8).lowercased()
        let made = try runProcess("/usr/bin/curl", ["-s", "-f", "-X", "POST", "\(server.filer)/buckets/\(name)/?op=mkdir"], in: "/")
        guard made.status == 0 else { throw HarnessError(description: "cannot create bucket \(name): \(made)") }
        return name
    }

    func url(_ bucket: String) -> String { "s3://\(bucket)/team?endpoint=\(server.endpoint)&region=us-east-1" }

    var credentials: [String: String] {
        ["AWS_ACCESS_KEY_ID": WeedServer.accessKey, "AWS_SECRET_ACCESS_KEY": WeedServer.secretKey]
    }

    /// The basic pipeline with `remote:` (and `extra` lines after its name), committed.
    func origin(remote: String?, extra: String = "", edit: (String) -> String = { $0 }) throws -> TempRepo {
        var files = basicFiles
        let header = "name: demo\n" + (remote.map { "remote: \($0)\n" } ?? "") + extra
        files["pipelines/demo.yaml"] = edit(basicPipeline.replacingOccurrences(of: "name: demo\n", with: header))
        return try TempRepo(files: files)
    }

    func clone(_ repo: TempRepo) throws -> TempRepo {
        let copy = try TempRepo()
        try copy.git("pull", "-q", repo.root, "main")
        return copy
    }

    @Test("--prune-cached leaves out the stages the remote has and says so; the rest depend on no pruned task")
    func prunes() throws {
        let remote = url(try bucket())
        let repo = try origin(remote: remote)
        let run = try repo.mlpipe("run", env: credentials)
        #expect(run.status == 0, "\(run)")
        try repo.write("scripts/eval.sh", "printf '{\"score\": %d}' $(wc -l < $1)\n")
        try repo.commit("a new evaluation")

        let export = try repo.mlpipe("export", "argo", "--prune-cached", "--repo", "https://git.example.com/demo.git",
                                     env: credentials)
        #expect(export.status == 0, "\(export)")
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? ""
        for stage in ["prepare", "train", "docs"] {
            #expect(export.errorLines.contains { $0.hasPrefix("pruned \(stage): cached on the remote (run #1 on \(host), ") },
                    "\(export)")
        }
        #expect(!export.stderr.contains("pruned evaluate"))
        let tree = try yamlTree(export.stdout)
        let templates = try #require((tree["spec"] as? [String: Any])?["templates"] as? [[String: Any]])
        let tasks = try #require((templates[0]["dag"] as? [String: Any])?["tasks"] as? [[String: Any]])
        #expect(tasks.map { $0["name"] as? String } == ["evaluate"])
        #expect(tasks[0]["dependencies"] == nil)

        // Without the remote's answer nothing is pruned: every stage is a task.
        let all = try repo.mlpipe("export", "argo", "--repo", "https://git.example.com/demo.git", env: credentials)
        let allTasks = ((try yamlTree(all.stdout)["spec"] as? [String: Any])?["templates"] as? [[String: Any]])?.count
        #expect(allTasks == 5, "\(all)")
    }

    @Test("a pod's command on a fresh clone takes the upstream stages from the remote and computes only its own")
    func podCommand() throws {
        let remote = url(try bucket())
        let repo = try origin(remote: remote)
        #expect(try repo.mlpipe("run", "--only", "train", env: credentials).status == 0)

        let pod = try clone(repo)
        let result = try pod.mlpipe("run", "pipelines/demo.yaml", "--only", "evaluate", "--cached-upstream",
                                    "--remote", remote, "--remote-required", "--executor", "local", env: credentials)
        #expect(result.status == 0, "\(result)")
        #expect(try pod.statuses() == ["prepare": "cached", "train": "cached", "evaluate": "succeeded", "docs": "skipped"])
    }

    @Test("a pod whose upstream result is not on the remote fails at once, naming the stage, and computes nothing (exit 3)")
    func missingUpstream() throws {
        let remote = url(try bucket())
        let repo = try origin(remote: remote)
        let result = try repo.mlpipe("run", "--only", "train", "--cached-upstream", "--remote-required", env: credentials)
        #expect(result.status == 3, "\(result)")
        #expect((result.stdout + result.stderr).contains(
            "stage 'prepare' is needed by train and --cached-upstream takes it from the cache, but neither the local nor the remote cache has its result"),
            "\(result)")
        #expect(try repo.statuses() == ["prepare": "failed", "train": "skipped", "evaluate": "skipped", "docs": "skipped"])
    }

    /// A kubectl that runs each applied Job at once: clones as its init containers say,
    /// runs the container's command (this mlpipe) with the Job's environment, its
    /// `secretKeyRef`s from `secrets.json`, and answers `wait` and `logs` from the result.
    func fakeCluster(secrets: [String: [String: String]]) throws -> (folder: String, env: [String: String]) {
        let folder = NSTemporaryDirectory() + "mlpipe-cluster-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder + "/bin", withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: secrets).write(to: URL(fileURLWithPath: folder + "/secrets.json"))
        let script = """
            #!\(WeedServer.venv)/bin/python3
            import json, os, subprocess, sys, tempfile, yaml
            args = sys.argv[1:]
            if args == ["\(FakeTool.warmUpArgument)"]:
                sys.exit(0)
            state = os.environ["FAKE_CLUSTER"]
            with open(os.path.join(state, "calls.txt"), "a") as f:
                f.write(" ".join(args) + "\\n")
            def opt(name):
                return args[args.index(name) + 1] if name in args else None
            config = opt("--kubeconfig")
            if config:
                with open(os.path.join(state, "kubeconfig.txt"), "w") as f:
                    f.write(oct(os.stat(config).st_mode & 0o777) + " " + open(config).read())
            def finish(name, status, log):
                open(os.path.join(state, name + ".status"), "w").write(str(status))
                open(os.path.join(state, name + ".log"), "w").write(log)
            if "apply" in args:
                job = yaml.safe_load(open(opt("-f")))
                name = job["metadata"]["name"]
                pod = job["spec"]["template"]["spec"]
                root = tempfile.mkdtemp(prefix="fake-pod-", dir=state)
                local = lambda text: text.replace("/workspace/src", root + "/src")
                for init in pod["initContainers"]:
                    done = subprocess.run([init["command"][0]] + [local(a) for a in init["args"]], capture_output=True, text=True)
                    if done.returncode:
                        finish(name, 1, done.stdout + done.stderr)
                        sys.exit(0)
                container = pod["containers"][0]
                secrets = json.load(open(os.path.join(state, "secrets.json")))
                env = {"PATH": "/usr/bin:/bin", "HOME": root}
                for item in container.get("env", []):
                    if "value" in item:
                        env[item["name"]] = item["value"]
                        continue
                    ref = item["valueFrom"]["secretKeyRef"]
                    value = secrets.get(ref["name"], {}).get(ref["key"])
                    if value is None and not ref.get("optional"):
                        finish(name, 1, "CreateContainerConfigError: secret %s has no key %s" % (ref["name"], ref["key"]))
                        sys.exit(0)
                    if value is not None:
                        env[item["name"]] = value
                done = subprocess.run([os.environ["FAKE_MLPIPE"]] + container["args"], cwd=local(container["workingDir"]),
                                      env=env, capture_output=True, text=True)
                finish(name, done.returncode, done.stdout + done.stderr)
                print("job.batch/%s created" % name)
            elif "wait" in args:
                name = args[-1].split("/", 1)[1]
                status = int(open(os.path.join(state, name + ".status")).read())
                met = (status == 0) == ("--for=condition=Complete" in args)
                print("job.batch/%s condition met" % name if met else "error: timed out waiting for the condition")
                sys.exit(0 if met else 1)
            elif "logs" in args:
                name = args[args.index("logs") + 1].split("/", 1)[1]
                print(open(os.path.join(state, name + ".log")).read())

            """
        try FakeTool.install(script, at: folder + "/bin/kubectl")
        let path = folder + "/bin:" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        return (folder, ["PATH": path, "FAKE_CLUSTER": folder, "FAKE_MLPIPE": mlpipeBinary])
    }

    static let kubeconfig = "apiVersion: v1\nkind: Config\nclusters: []\n"

    @Test("a stage with `executor: kubernetes` runs as a Job and its result comes back through the remote")
    func kubernetesExecutor() throws {
        let bucket = try bucket()
        let repo = try origin(remote: url(bucket), extra: "secrets:\n  KUBECONFIG: { env: TEST_KUBECONFIG }\n") {
            $0.replacingOccurrences(of: "    outputs: { model: model.txt }\n",
                                    with: "    outputs: { model: model.txt }\n    executor: kubernetes\n    retries: 1\n"
                                        + "    secrets: [KUBECONFIG]\n")
        }
        let cluster = try fakeCluster(secrets: ["mlpipe-demo": credentials])
        defer { try? FileManager.default.removeItem(atPath: cluster.folder) }
        var env = credentials.merging(cluster.env) { $1 }
        env["TEST_KUBECONFIG"] = Self.kubeconfig
        let run = try repo.mlpipe("run", "--repo", repo.root, "--image", "registry.example.com/mlpipe:1", env: env)
        #expect(run.status == 0, "\(run)")
        #expect(try repo.statuses() == ["prepare": "succeeded", "train": "succeeded", "evaluate": "succeeded", "docs": "succeeded"])
        let train = try #require(try repo.stages()["train"])
        #expect((train["reason"] as? String ?? "").contains("computed by Kubernetes Job demo-train-r1-"), "\(train)")
        let model = (train["outputs"] as? [[String: Any]])?.first?["path"] as? String ?? ""
        #expect(FileManager.default.contents(atPath: model) == Data("model from one\ntwo x2 hello\n".utf8))

        let calls = try String(contentsOfFile: cluster.folder + "/calls.txt", encoding: .utf8)
        #expect(calls.contains(" apply -f \(repo.root)/workspace/tmp/jobs/1-train.yaml"), "\(calls)")
        #expect(calls.contains("wait --for=condition=Complete --timeout=7500s job/demo-train-r1-"), "\(calls)")
        let seen = try String(contentsOfFile: cluster.folder + "/kubeconfig.txt", encoding: .utf8)
        #expect(seen == "0o600 " + Self.kubeconfig)
        #expect(!FileManager.default.fileExists(atPath: repo.path("workspace/tmp/jobs/1-train.kubeconfig")))
        let logs = try repo.mlpipe("logs", "1", "train")
        #expect(logs.stdout.contains("kubectl --kubeconfig"), "\(logs)")
        #expect(logs.stdout.contains("job.batch/demo-train-r1-"), "\(logs)")
        #expect(!logs.stdout.contains("clusters: []"), "the kubeconfig's content never reaches the log: \(logs)")
    }

    @Test("a stage on Kubernetes without a remote fails, saying the result comes back through one (exit 3)")
    func kubernetesNeedsRemote() throws {
        let repo = try origin(remote: nil, extra: "secrets:\n  KUBECONFIG: { env: TEST_KUBECONFIG }\n") {
            $0.replacingOccurrences(of: "    outputs: { model: model.txt }\n",
                                    with: "    outputs: { model: model.txt }\n    secrets: [KUBECONFIG]\n")
        }
        let cluster = try fakeCluster(secrets: [:])
        defer { try? FileManager.default.removeItem(atPath: cluster.folder) }
        var env = cluster.env
        env["TEST_KUBECONFIG"] = Self.kubeconfig
        let run = try repo.mlpipe("run", "--only", "prepare", "--executor", "kubernetes", "--repo", repo.root, env: env)
        #expect(run.status == 3, "\(run)")
        #expect((run.stdout + run.stderr).contains(
            "stage 'prepare' runs on Kubernetes (`executor: kubernetes` or --executor kubernetes), which hands its result back through the remote cache, and this run has none"),
            "\(run)")
        #expect(!FileManager.default.fileExists(atPath: cluster.folder + "/calls.txt"))
    }
}
