import Foundation
import Testing

@Suite("history, status, graph, cache and init commands")
struct HistoryTests {
    @Test("runs lists newest first, filters, and --json gives run objects without stages")
    func runsList() throws {
        let repo = try basicRepo()
        try repo.mlpipe("run")
        try repo.write("scripts/train.sh", "exit 1\n")
        try repo.commit("break")
        try repo.mlpipe("run")
        let text = try repo.mlpipe("runs")
        #expect(text.status == 0)
        #expect(text.lines.count == 3, "\(text)")
        #expect(text.lines[1].hasPrefix("#2 ") && text.lines[1].contains("failed"))
        #expect(text.lines[2].hasPrefix("#1 ") && text.lines[2].contains("succeeded"))
        let json = try repo.mlpipe("runs", "--json", "--status", "succeeded")
        let runs = try json.json() as? [[String: Any]] ?? []
        #expect(runs.count == 1)
        let run = runs.first ?? [:]
        for key in ["id", "pipeline", "status", "commit", "branch", "dirty", "parentRun", "trigger", "startedAt", "finishedAt", "params"] {
            #expect(run.keys.contains(key), "missing \(key)")
        }
        #expect(run["stages"] == nil)
        #expect((run["params"] as? [String: Any])?["factor"] as? Int == 2)
        #expect(try repo.mlpipe("runs", "--limit", "1").lines.count == 2)
    }

    @Test("runs of an unknown pipeline says so and lists the pipelines that have runs")
    func runsOfUnknownPipeline() throws {
        let repo = try basicRepo()
        #expect(try repo.mlpipe("runs").stdout == "no runs recorded yet; start one with `mlpipe run`\n")
        try repo.mlpipe("run")
        let typo = try repo.mlpipe("runs", "--pipeline", "demi")
        #expect(typo.status == 0, "\(typo)")
        #expect(typo.stdout == "no runs of pipeline 'demi'; did you mean 'demo'? (known: demo)\n", "\(typo)")
        let none = try repo.mlpipe("runs", "--pipeline", "demo", "--status", "failed")
        #expect(none.stdout == "no runs of pipeline 'demo' with status failed\n", "\(none)")
    }

    @Test("a stage that failed last time says so as why it runs, not 'first run of this stage'")
    func whyAfterFailure() throws {
        // go.txt is git-ignored and no input: the stage's key is the same both times.
        let pipeline = "version: 1\nname: w\nstages:\n  a:\n    run: test -e go.txt || exit 4\n"
        let repo = try TempRepo(files: ["pipelines/w.yaml": pipeline, ".gitignore": "go.txt\n"])
        #expect(try repo.mlpipe("run").status == 1)
        try repo.write("go.txt", "1\n")
        #expect(try repo.mlpipe("run").status == 0)
        let stages = try repo.stages()
        #expect(stages["a"]?["reason"] as? String == "last run #1 failed (exit 4)", "\(stages)")
    }

    @Test("runs show --json has every documented field, and text shows why each stage ran")
    func runsShow() throws {
        let repo = try basicRepo()
        try repo.mlpipe("run")
        let run = try repo.show("1")
        for key in ["id", "pipeline", "status", "commit", "branch", "dirty", "parentRun", "trigger", "startedAt", "finishedAt", "params", "stages"] {
            #expect(run.keys.contains(key), "missing \(key)")
        }
        let stage = (run["stages"] as? [[String: Any]])?.first { $0["name"] as? String == "train" } ?? [:]
        for key in ["name", "status", "cacheKey", "cachedFrom", "exitCode", "attempts", "startedAt", "finishedAt", "outputs"] {
            #expect(stage.keys.contains(key), "missing \(key)")
        }
        let output = (stage["outputs"] as? [[String: Any]])?.first ?? [:]
        #expect(Set(output.keys).isSuperset(of: ["name", "digest", "size", "path"]))
        let text = try repo.mlpipe("runs", "show", "latest")
        #expect(text.stdout.contains("why: first run of this stage"), "\(text)")
        #expect(text.stdout.contains("metrics: {\"name\":\"m\",\"score\":"), "\(text)")
    }

    @Test("runs diff names the commit, params, inputs, outputs and metrics that differ")
    func runsDiff() throws {
        let repo = try basicRepo()
        try repo.mlpipe("run")
        try repo.write("data/input.txt", "a much longer input than before\n")
        try repo.commit("data")
        try repo.mlpipe("run", "--param", "factor=5")
        let diff = try repo.mlpipe("runs", "diff", "1", "2", "--json")
        #expect(diff.status == 0, "\(diff)")
        let differences = (try diff.json() as? [String: Any])?["differences"] as? [[String: Any]] ?? []
        let names = Set(differences.map { "\($0["category"]!):\($0["name"]!)" })
        #expect(names.isSuperset(of: ["commit:commit", "param:factor", "input:prepare:data/input.txt",
                                      "output:prepare.data", "output:train.model", "metric:evaluate.score"]), "\(names)")
        #expect(!names.contains("input:docs:README.md"))
        let score = differences.first { $0["name"] as? String == "evaluate.score" }
        #expect((score?["delta"] as? Double ?? 0) > 0)
        #expect(score?["a"] is NSNumber && score?["b"] is NSNumber, "metrics are numbers in --json: \(String(describing: score))")
        let factor = differences.first { $0["name"] as? String == "factor" }
        #expect(factor?["a"] as? Int == 2 && factor?["b"] as? Int == 5, "params keep their JSON type: \(String(describing: factor))")
        let text = try repo.mlpipe("runs", "diff", "1", "2")
        #expect(text.stdout.contains("param    factor: 2 -> 5"), "\(text)")
    }

    @Test("logs prints a stage's output; for a cached stage, the log of the run that made it")
    func logs() throws {
        let repo = try TempRepo(files: ["pipelines/l.yaml": "version: 1\nname: l\nstages:\n  talk:\n    run: echo said-on-stdout; echo said-on-stderr >&2\n"])
        try repo.mlpipe("run")
        let logs = try repo.mlpipe("logs", "1", "talk")
        #expect(logs.status == 0)
        #expect(logs.stdout.contains("said-on-stdout\nsaid-on-stderr"), "\(logs)")
        try repo.mlpipe("run")
        let cached = try repo.mlpipe("logs", "2", "talk")
        #expect(cached.status == 0, "\(cached)")
        #expect(cached.stdout.contains("said-on-stdout\nsaid-on-stderr"), "\(cached)")
        #expect(cached.stderr.contains("talk was cached in run #2; this is the log of run #1, which made its result"), "\(cached)")
        let unknown = try repo.mlpipe("logs", "1", "tallk")
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("did you mean 'talk'?"), "\(unknown)")
    }

    @Test("status says which stages would run and why, without running them")
    func status() throws {
        let repo = try basicRepo()
        let before = try repo.mlpipe("status")
        #expect(before.status == 0, "\(before)")
        #expect(before.stdout.contains("4 of 4 stages would run"))
        try repo.mlpipe("run")
        #expect(try repo.mlpipe("status").stdout.contains("up to date"))
        try repo.write("scripts/train.sh", "echo changed\n")
        let after = try repo.mlpipe("status", "--json")
        let stages = (try after.json() as? [String: Any])?["stages"] as? [[String: Any]] ?? []
        let byName = Dictionary(uniqueKeysWithValues: stages.map { ($0["name"] as! String, $0) })
        #expect(byName["train"]?["willRun"] as? Bool == true)
        #expect((byName["train"]?["reason"] as? String ?? "").contains("input scripts/train.sh has uncommitted changes"))
        #expect(byName["evaluate"]?["reason"] as? String == "if the outputs of train change (it runs first)")
        #expect(byName["evaluate"]?["certain"] as? Bool == false)
        #expect(byName["train"]?["certain"] as? Bool == true)
        let text = try repo.mlpipe("status")
        #expect(text.lines.contains { $0.hasPrefix("  evaluate") && $0.contains("may run") }, "\(text)")
        #expect(text.stdout.contains("1 of 4 stages would run, 1 more may run (if the outputs they use change)"), "\(text)")
        #expect(byName["prepare"]?["willRun"] as? Bool == false)
        #expect(try repo.mlpipe("runs", "--json").json() as? [Any] != nil)
        #expect((try repo.mlpipe("runs", "--json").json() as? [Any])?.count == 1, "status records no run")
    }

    @Test("metrics are usable in later expressions")
    func metricsInExpressions() throws {
        let pipeline = """
            version: 1
            name: m
            stages:
              score:
                run: >-
                  echo '{"accuracy": 0.93}' > $MLPIPE_OUTPUT_DIR/m.json
                metrics: m.json
              gate:
                run: echo "accuracy was ${{ stages.score.metrics.accuracy }}" > ${{ outputs.note }}
                outputs: { note: note.txt }

            """
        let repo = try TempRepo(files: ["pipelines/m.yaml": pipeline])
        let result = try repo.mlpipe("run")
        #expect(result.status == 0, "\(result)")
        let note = (try repo.stages()["gate"]?["outputs"] as? [[String: Any]])?.first?["path"] as? String ?? ""
        #expect(FileManager.default.contents(atPath: note) == Data("accuracy was 0.93\n".utf8))
        #expect((try repo.stages()["score"]?["metrics"] as? [String: Any])?["accuracy"] as? Double == 0.93)
    }

    @Test("graph prints text, dot and mermaid")
    func graph() throws {
        let repo = try basicRepo()
        let dot = try repo.mlpipe("graph", "--format", "dot")
        #expect(dot.status == 0)
        #expect(dot.stdout.contains("digraph"))
        #expect(dot.stdout.contains("\"prepare\" -> \"train\""), "\(dot)")
        let mermaid = try repo.mlpipe("graph", "demo", "--format", "mermaid")
        #expect(mermaid.stdout.contains("flowchart LR"), "\(mermaid)")
        #expect(mermaid.stdout.contains("s1[\"prepare<br/>command\"]") && mermaid.stdout.contains("s1 --> s2"), "\(mermaid)")
        #expect(try repo.mlpipe("graph").status == 0)
        #expect(try repo.mlpipe("graph", "--format", "svg").status == 2)
    }

    @Test("cache ls lists entries, verify finds a tampered object, gc keeps what is in use")
    func cacheCommands() throws {
        let repo = try basicRepo()
        try repo.mlpipe("run")
        let ls = try repo.mlpipe("cache", "ls")
        #expect(ls.lines.count == 5, "\(ls)")
        #expect(try repo.mlpipe("cache", "verify").status == 0)
        let objects = repo.path("workspace/objects/sha256")
        let enumerator = FileManager.default.enumerator(atPath: objects)
        var victim: String?
        while let name = enumerator?.nextObject() as? String {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: objects + "/" + name, isDirectory: &isDir), !isDir.boolValue { victim = objects + "/" + name; break }
        }
        let path = try #require(victim)
        chmod(path, 0o644)
        try Data("tampered".utf8).write(to: URL(fileURLWithPath: path))
        let verify = try repo.mlpipe("cache", "verify")
        #expect(verify.status == 1, "\(verify)")
        #expect(verify.stderr.contains("sha256:"))
        let gc = try repo.mlpipe("cache", "gc")
        #expect(gc.status == 0, "\(gc)")
        #expect(gc.stdout.contains("kept 4 entries"), "\(gc)")
    }

    @Test("cache gc also removes containerize's layer and requirements caches not used within --keep-days")
    func gcBuildCaches() throws {
        let repo = try TempRepo(files: ["pipelines/w.yaml": "version: 1\nname: w\nstages:\n  a:\n    run: echo hi\n"])
        #expect(try repo.mlpipe("run").status == 0)
        let old = repo.root + "/workspace/cache/requirements/0123abcd"
        let recent = repo.root + "/workspace/cache/requirements/4567ef01"
        for folder in [old, recent] {
            try FileManager.default.createDirectory(atPath: folder + "/site-packages", withIntermediateDirectories: true)
            try Data(repeating: 7, count: 1000).write(to: URL(fileURLWithPath: folder + "/site-packages/m.py"))
        }
        var times = [timespec(tv_sec: 1_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, old, &times, 0) == 0)
        let gc = try repo.mlpipe("cache", "gc", "--keep-days", "3")
        #expect(gc.status == 0, "\(gc)")
        #expect(gc.stdout.contains("0 image layers, 0 base images, 1 requirement sets and 0 file digests not used within 3 days, freeing 1.0 KB"),
                "\(gc)")
        #expect(!FileManager.default.fileExists(atPath: old))
        #expect(FileManager.default.fileExists(atPath: recent + "/site-packages/m.py"))
    }

    @Test("init scaffolds a pipeline that lints and runs, and says to commit first where nothing is committed")
    func initCommand() throws {
        let repo = try TempRepo()
        let result = try repo.mlpipe("init")
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("created pipelines/example.yaml"))
        #expect(result.lines.last == "next: this repository has no commit yet, and mlpipe runs a commit: "
                + "`git add pipelines templates && git commit -m 'Add an mlpipe pipeline'`, then `mlpipe run`", "\(result)")
        #expect(repo.read("workspace/.gitignore")?.contains("*") == true)
        #expect(try repo.mlpipe("lint").status == 0)
        try repo.commit("init")
        #expect(try repo.mlpipe("run").status == 0)
        #expect(try repo.git("status", "--porcelain").isEmpty, "the workspace never dirties the repository")
        let again = try repo.mlpipe("init")
        #expect(again.stdout.contains("exists  pipelines/"))
        #expect(again.lines.last == "next: `mlpipe lint` checks the pipeline, `mlpipe run` runs it", "\(again)")
    }
}
