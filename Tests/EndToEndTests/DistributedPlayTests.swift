import Foundation
import TestSupport
import Testing

/// The distributed contract of `mlpipe export argo`, played as a cluster would play it:
/// no Argo controller runs here, so a player reads the exported Workflow's DAG and starts
/// each task, once its dependencies have succeeded, as a separate `mlpipe` process in a
/// fresh clone of the repository at the pinned commit, with its own workspace and host
/// name, and the container's arguments and environment. The tasks share nothing but the
/// S3 remote (SeaweedFS) and the PostgreSQL store.
@Suite("an exported Argo workflow played task by task, each in its own clone", .weedServer)
struct DistributedPlayTests {
    var server: WeedServer { WeedServerTrait.current! }

    /// A diamond: prepare, then left and right from it, then join from both. Each command
    /// first appends its name to `$PLAY_COUNTER`, a file outside every clone, so the test
    /// counts what was computed; the sleep widens the window in which racing tasks overlap.
    /// `right` fails when `FAIL_RIGHT` is set.
    static let pipeline = """
        version: 1
        name: diamond
        stages:
          prepare:
            run: echo prepare >> "${PLAY_COUNTER:-/dev/null}"; sleep 1; cat data/input.txt > ${{ outputs.data }}
            inputs: [data/input.txt]
            outputs: { data: data.txt }
          left:
            run: echo left >> "${PLAY_COUNTER:-/dev/null}"; tr a-z A-Z < ${{ stages.prepare.outputs.data }} > ${{ outputs.upper }}
            outputs: { upper: upper.txt }
          right:
            run: echo right >> "${PLAY_COUNTER:-/dev/null}"; test -z "$FAIL_RIGHT" && wc -l < ${{ stages.prepare.outputs.data }} > ${{ outputs.count }}
            outputs: { count: count.txt }
          join:
            run: echo join >> "${PLAY_COUNTER:-/dev/null}"; cat ${{ stages.left.outputs.upper }} ${{ stages.right.outputs.count }} > ${{ outputs.report }}
            outputs: { report: report.txt }

        """

    static let stages = ["prepare", "left", "right", "join"]

    /// One DAG task of the Workflow: what a pod would run.
    struct WorkflowTask {
        var name: String
        var dependencies: [String]
        var arguments: [String]
        /// Plain values as written (`{{workflow.uid}}` still in them), and secret references
        /// as `secret/key`.
        var environment: [String: String]
        var secretReferences: [String: (secret: String, key: String)]
    }

    /// The exported Workflow: its tasks in DAG order, the repository and the commit.
    struct Workflow {
        var tasks: [WorkflowTask]
        var repository: String
        var revision: String
    }

    func bucket() throws -> String {
        let name = "p" + UUID().uuidString.prefix(8).lowercased()
        let made = try runProcess("/usr/bin/curl", ["-s", "-f", "-X", "POST", "\(server.filer)/buckets/\(name)/?op=mkdir"], in: "/")
        guard made.status == 0 else { throw HarnessError(description: "cannot create bucket \(name): \(made)") }
        return name
    }

    /// The Secret every pod reads: the remote's AWS keys, by the names the export refers to.
    var secret: [String: String] {
        ["AWS_ACCESS_KEY_ID": WeedServer.accessKey, "AWS_SECRET_ACCESS_KEY": WeedServer.secretKey]
    }

    /// Exports the workflow of `repo` with its remote and store, and reads its DAG.
    func export(_ repo: TempRepo, remote: String, store: String) throws -> Workflow {
        let result = try repo.mlpipe("export", "argo", "--remote", remote, "--store", store, "--repo", repo.root, env: secret)
        guard result.status == 0 else { throw HarnessError(description: "export argo failed: \(result)") }
        let tree = try yamlTree(result.stdout)
        let spec = try #require(tree["spec"] as? [String: Any])
        let templates = try #require(spec["templates"] as? [[String: Any]])
        let dag = try #require((templates.first?["dag"] as? [String: Any])?["tasks"] as? [[String: Any]])
        let byName = Dictionary(uniqueKeysWithValues: templates.map { ($0["name"] as? String ?? "", $0) })
        var tasks: [WorkflowTask] = []
        var repository = "", revision = ""
        for task in dag {
            let name = try #require(task["name"] as? String)
            let template = try #require(byName[task["template"] as? String ?? ""])
            let container = try #require(template["container"] as? [String: Any])
            var environment: [String: String] = [:]
            var references: [String: (secret: String, key: String)] = [:]
            for item in container["env"] as? [[String: Any]] ?? [] {
                let variable = try #require(item["name"] as? String)
                if let value = item["value"] as? String {
                    environment[variable] = value
                } else if let ref = (item["valueFrom"] as? [String: Any])?["secretKeyRef"] as? [String: Any] {
                    references[variable] = (ref["name"] as? String ?? "", ref["key"] as? String ?? "")
                }
            }
            let artifacts = (template["inputs"] as? [String: Any])?["artifacts"] as? [[String: Any]]
            let git = try #require(artifacts?.first?["git"] as? [String: Any])
            repository = git["repo"] as? String ?? ""
            revision = git["revision"] as? String ?? ""
            #expect(container["command"] as? [String] == ["mlpipe"])
            tasks.append(WorkflowTask(name: name, dependencies: task["dependencies"] as? [String] ?? [],
                                      arguments: try #require(container["args"] as? [String]),
                                      environment: environment, secretReferences: references))
        }
        return Workflow(tasks: tasks, repository: repository, revision: revision)
    }

    /// One submission of the workflow: Argo gives it a uid, and its pods their host names.
    struct Submission {
        var uid: String
        var hostPrefix: String
    }

    /// Plays every submission at once: each task starts, in a fresh clone at the revision
    /// with its own workspace, as soon as its dependencies succeeded; a task that fails
    /// stops its submission (Argo's failFast). Returns each task's outcome, by
    /// `hostPrefix-task`.
    func play(_ workflow: Workflow, _ submissions: [Submission], counter: String,
              password: String) throws -> [String: Outcome] {
        struct Started {
            var child: Child
            var clone: String
        }
        var running: [String: Started] = [:]
        var finished: [String: Outcome] = [:]
        var failed = Set<String>()
        var clones: [String] = []
        defer {
            endSurvivors(running.values.map(\.child.pid))
            for clone in clones { try? FileManager.default.removeItem(atPath: clone) }
        }
        let deadline = Date().addingTimeInterval(300)
        while true {
            for submission in submissions where !failed.contains(submission.uid) {
                for task in workflow.tasks {
                    let id = "\(submission.hostPrefix)-\(task.name)"
                    guard running[id] == nil, finished[id] == nil,
                          task.dependencies.allSatisfy({ finished["\(submission.hostPrefix)-\($0)"]?.status == 0 })
                    else { continue }
                    let clone = NSTemporaryDirectory() + "mlpipe-pod-\(id)-" + UUID().uuidString.prefix(8)
                    clones.append(clone)
                    let cloned = try runProcess("/usr/bin/git", ["clone", "-q", workflow.repository, clone], in: "/")
                    guard cloned.status == 0 else { throw HarnessError(description: "git clone failed: \(cloned)") }
                    let checkout = try runProcess("/usr/bin/git", ["checkout", "-q", workflow.revision], in: clone)
                    guard checkout.status == 0 else { throw HarnessError(description: "git checkout failed: \(checkout)") }
                    var env = task.environment.mapValues { $0.replacingOccurrences(of: "{{workflow.uid}}", with: submission.uid) }
                    for (variable, reference) in task.secretReferences {
                        if let value = secret[reference.key] { env[variable] = value }
                    }
                    env["PGPASSWORD"] = password
                    env["MLPIPE_HOST"] = id
                    env["PLAY_COUNTER"] = counter
                    running[id] = Started(child: try Child(mlpipeBinary, task.arguments, in: clone, env: env), clone: clone)
                }
            }
            if running.isEmpty { break }
            guard Date() < deadline else { throw HarnessError(description: "the workflow did not finish in 300s") }
            for (id, started) in running where !started.child.isRunning {
                let outcome = try started.child.finish(timeout: 10)
                running[id] = nil
                finished[id] = outcome
                if outcome.status != 0, let submission = submissions.first(where: { id.hasPrefix($0.hostPrefix + "-") }) {
                    failed.insert(submission.uid)
                }
            }
            usleep(20_000)
        }
        return finished
    }

    /// Stage -> output digest, from `runs show RUN --json` of `repo` (with `env`'s store).
    func digests(_ repo: TempRepo, run: String, env: [String: String] = [:]) throws -> [String: String] {
        let shown = try repo.mlpipe("runs", "show", run, "--json", env: env)
        let object = try #require(try shown.json() as? [String: Any], "\(shown)")
        var digests: [String: String] = [:]
        for stage in object["stages"] as? [[String: Any]] ?? [] {
            for output in stage["outputs"] as? [[String: Any]] ?? [] {
                digests["\(stage["name"] as? String ?? "?").\(output["name"] as? String ?? "?")"] = output["digest"] as? String
            }
        }
        return digests
    }

    /// The lines of the counter file, sorted: one per stage command that ran.
    func computed(_ counter: String) -> [String] {
        ((try? String(contentsOfFile: counter, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init).sorted()
    }

    /// The repository, the local run's digests, a fresh database, the export, and a counter file.
    func setUp(_ postgres: PostgresServer) throws -> (origin: TempRepo, local: [String: String], env: [String: String],
                                                      workflow: Workflow, counter: String) {
        let origin = try TempRepo(files: ["pipelines/diamond.yaml": Self.pipeline, "data/input.txt": "one\ntwo\nthree\n"])
        let local = try TempRepo()
        try local.git("pull", "-q", origin.root, "main")
        let run = try local.mlpipe("run")
        #expect(run.status == 0, "\(run)")
        let database = try postgres.createDatabase()
        let store = postgres.url(database, withPassword: false)
        let remote = "s3://\(try bucket())/play?endpoint=\(server.endpoint)&region=us-east-1"
        let workflow = try export(origin, remote: remote, store: store)
        #expect(workflow.tasks.map(\.name) == Self.stages)
        #expect(workflow.tasks.map(\.dependencies) == [[], ["prepare"], ["prepare"], ["left", "right"]])
        let counter = NSTemporaryDirectory() + "mlpipe-play-counter-" + UUID().uuidString
        return (origin, try digests(local, run: "latest"), ["MLPIPE_STORE": store, "PGPASSWORD": PostgresServer.password],
                workflow, counter)
    }

    @Test("each task in its own clone computes its stage once; the outputs equal a local run's, in one run that names each stage's host")
    func playsWorkflow() throws {
        let postgres = try PostgresServer()
        let (origin, local, env, workflow, counter) = try setUp(postgres)
        defer { try? FileManager.default.removeItem(atPath: counter) }
        #expect(local.count == 4, "\(local)")

        let outcomes = try play(workflow, [Submission(uid: "0b9f6c1e-uid-one", hostPrefix: "pod")], counter: counter,
                                password: PostgresServer.password)
        for (id, outcome) in outcomes.sorted(by: { $0.key < $1.key }) {
            #expect(outcome.status == 0, "\(id): \(outcome)")
        }
        #expect(outcomes.count == 4)
        #expect(computed(counter) == Self.stages.sorted(), "each stage's command ran exactly once")

        let listed = try origin.mlpipe("runs", "--json", env: env)
        let runs = try #require(try listed.json() as? [[String: Any]], "\(listed)")
        #expect(runs.count == 1, "the workflow is one run: \(listed.stdout)")
        #expect(runs.first?["status"] as? String == "succeeded", "\(listed.stdout)")
        let id = String(runs.first?["id"] as? Int ?? 0)
        #expect(try digests(origin, run: id, env: env) == local, "the workflow's outputs are the local run's")

        let shown = try origin.mlpipe("runs", "show", id, env: env)
        #expect(shown.status == 0, "\(shown)")
        for stage in Self.stages {
            #expect(shown.lines.contains { $0.hasPrefix("  \(stage) ") && $0.contains(" succeeded ") && $0.contains(" on pod-\(stage)") },
                    "\(stage) succeeded on its own host: \(shown.stdout)")
        }
        let json = try origin.mlpipe("runs", "show", id, "--json", env: env)
        let stages = try #require((try json.json() as? [String: Any])?["stages"] as? [[String: Any]], "\(json)")
        #expect(Dictionary(uniqueKeysWithValues: stages.compactMap { stage in
            (stage["name"] as? String).map { ($0, stage["host"] as? String ?? "none") }
        }) == Dictionary(uniqueKeysWithValues: Self.stages.map { ($0, "pod-\($0)") }), "\(json.stdout)")
    }

    @Test("two submissions of the same workflow racing on one commit compute each stage once between them")
    func racingSubmissions() throws {
        let postgres = try PostgresServer()
        let (origin, local, env, workflow, counter) = try setUp(postgres)
        defer { try? FileManager.default.removeItem(atPath: counter) }

        let outcomes = try play(workflow, [Submission(uid: "uid-a", hostPrefix: "a"), Submission(uid: "uid-b", hostPrefix: "b")],
                                counter: counter, password: PostgresServer.password)
        for (id, outcome) in outcomes.sorted(by: { $0.key < $1.key }) {
            #expect(outcome.status == 0, "\(id): \(outcome)")
        }
        #expect(outcomes.count == 8)
        #expect(computed(counter) == Self.stages.sorted(), "each stage's command ran once in all: \(computed(counter))")

        let listed = try origin.mlpipe("runs", "--json", env: env)
        let runs = try #require(try listed.json() as? [[String: Any]], "\(listed)")
        #expect(runs.count == 2, "one run per submission: \(listed.stdout)")
        for run in runs {
            let id = String(run["id"] as? Int ?? 0)
            #expect(run["status"] as? String == "succeeded", "\(listed.stdout)")
            #expect(try digests(origin, run: id, env: env) == local, "run #\(id)'s outputs are the local run's")
        }
    }

    @Test("tasks joined by --run-key on one workspace's SQLite store make one run: running until its last stage, then succeeded; failed once a task fails")
    func runKeyOnSQLite() throws {
        let repo = try TempRepo(files: ["pipelines/diamond.yaml": Self.pipeline, "data/input.txt": "one\ntwo\n"])
        for stage in ["prepare", "left"] {
            let task = try repo.mlpipe("run", "--only", stage, "--run-key", "gh-41-1", env: ["MLPIPE_HOST": "runner-\(stage)"])
            #expect(task.status == 0, "\(task)")
        }
        let listed = try repo.mlpipe("runs", "--json")
        let runs = try #require(try listed.json() as? [[String: Any]], "\(listed)")
        #expect(runs.count == 1 && runs.first?["status"] as? String == "running", "\(listed.stdout)")
        #expect(try repo.statuses() == ["prepare": "succeeded", "left": "succeeded", "right": "pending", "join": "pending"])

        for stage in ["right", "join"] {
            let task = try repo.mlpipe("run", "--only", stage, env: ["MLPIPE_HOST": "runner-\(stage)", "MLPIPE_RUN_KEY": "gh-41-1"])
            #expect(task.status == 0, "\(task)")
        }
        #expect(try repo.show()["status"] as? String == "succeeded")
        #expect(try repo.statuses() == ["prepare": "succeeded", "left": "succeeded", "right": "succeeded", "join": "succeeded"])
        let shown = try repo.mlpipe("runs", "show", "1")
        #expect(shown.lines.contains { $0.hasPrefix("  right ") && $0.contains(" on runner-right") }, "\(shown.stdout)")

        let failing = try repo.mlpipe("run", "--only", "right", "--force", "right", "--run-key", "gh-42-1",
                                      env: ["FAIL_RIGHT": "1"])
        #expect(failing.status == 1, "\(failing)")
        #expect(try repo.show("2")["status"] as? String == "failed")
        #expect(try repo.statuses("2") == ["prepare": "pending", "left": "pending", "right": "failed", "join": "pending"])

        let alone = try repo.mlpipe("run", "--run-key", "gh-43-1")
        #expect(alone.status == 2, "\(alone)")
        #expect(alone.stderr.contains("--run-key 'gh-43-1' joins the run of a workflow whose tasks each run some stages; give the task's stages with --only STAGE"),
                "\(alone)")
    }
}
