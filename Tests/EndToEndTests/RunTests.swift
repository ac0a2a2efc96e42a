import Foundation
import Testing

@Suite("mlpipe run and the git-keyed cache")
struct RunTests {
    @Test("a first run executes every stage, prints a line per event and records the run")
    func firstRun() throws {
        let repo = try basicRepo()
        let result = try repo.mlpipe("run")
        #expect(result.status == 0, "\(result)")
        #expect(result.lines.first?.hasPrefix("run #1 demo at ") == true, "\(result)")
        for stage in ["prepare", "train", "evaluate", "docs"] {
            #expect(result.lines.contains { $0.contains(" \(stage) ") && $0.contains("succeeded") }, "\(result)")
        }
        #expect(result.lines.last?.hasPrefix("run #1 succeeded in ") == true, "\(result)")
        let run = try repo.show()
        #expect(run["status"] as? String == "succeeded")
        #expect(run["commit"] as? String == (try repo.git("rev-parse", "HEAD")).trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(run["branch"] as? String == "main")
        #expect(run["dirty"] as? Bool == false)
        #expect(run["trigger"] as? String == "cli")
        let stages = try repo.stages()
        let model = (stages["train"]?["outputs"] as? [[String: Any]])?.first
        #expect((model?["digest"] as? String)?.hasPrefix("sha256:") == true)
        let path = model?["path"] as? String ?? ""
        #expect(FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } == "model from one\ntwo x2 hello\n")
    }

    @Test("running again with nothing changed executes no stage")
    func noOpRerun() throws {
        let repo = try basicRepo()
        try repo.mlpipe("run")
        let second = try repo.mlpipe("run")
        #expect(second.status == 0, "\(second)")
        #expect(try repo.statuses() == ["prepare": "cached", "train": "cached", "evaluate": "cached", "docs": "cached"])
        #expect(second.lines.contains { $0.contains("prepare") && $0.contains("cached from run #1") }, "\(second)")
        #expect(try repo.stages()["train"]?["cachedFrom"] as? Int == 1)
    }

    @Test("a commit that touches no declared input re-runs nothing")
    func unrelatedCommit() throws {
        let repo = try basicRepo()
        try repo.mlpipe("run")
        try repo.write("notes.txt", "changed\n")
        try repo.commit("touch notes")
        #expect(try repo.mlpipe("run").status == 0)
        #expect(Set(try repo.statuses().values) == ["cached"])
    }

    @Test("changing one input re-runs that stage and its downstream only")
    func inputChange() throws {
        let repo = try basicRepo()
        try repo.mlpipe("run")
        try repo.write("data/input.txt", "three\n")
        try repo.commit("new data")
        #expect(try repo.mlpipe("run").status == 0)
        #expect(try repo.statuses() == ["prepare": "succeeded", "train": "succeeded", "evaluate": "succeeded", "docs": "cached"])
        let reason = try repo.stages()["prepare"]?["reason"] as? String ?? ""
        #expect(reason.contains("input data/input.txt changed"), "\(reason)")
        #expect((try repo.stages()["train"]?["reason"] as? String ?? "").contains("upstream output prepare.data changed"))
    }

    @Test("a param, the run line or an env entry changes only the stages that use it")
    func paramRunEnvChange() throws {
        let repo = try basicRepo()
        try repo.mlpipe("run")
        #expect(try repo.mlpipe("run", "--param", "factor=3").status == 0)
        var statuses = try repo.statuses()
        #expect(statuses["prepare"] == "cached" && statuses["docs"] == "cached" && statuses["train"] == "succeeded")
        #expect((try repo.stages()["train"]?["reason"] as? String ?? "").contains("param factor changed (2 -> 3)"))
        // An unused param changes nothing.
        #expect(try repo.mlpipe("run", "--param", "factor=3", "--param", "unused=9").status == 0)
        #expect(Set(try repo.statuses().values) == ["cached"])

        try repo.write("pipelines/demo.yaml", basicPipeline.replacingOccurrences(of: "wc -l < README.md", with: "wc -c < README.md"))
        try repo.commit("count bytes")
        #expect(try repo.mlpipe("run", "--param", "factor=3").status == 0)
        statuses = try repo.statuses()
        #expect(statuses["docs"] == "succeeded" && statuses["prepare"] == "cached")
        #expect((try repo.stages()["docs"]?["reason"] as? String ?? "").contains("run line changed"))

        try repo.write("pipelines/demo.yaml", basicPipeline.replacingOccurrences(of: "GREETING: hello", with: "GREETING: bye"))
        try repo.commit("env")
        #expect(try repo.mlpipe("run").status == 0)
        #expect((try repo.stages()["prepare"]?["reason"] as? String ?? "").contains("env GREETING changed"))
    }

    @Test("a stage with no inputs is keyed by the commit's whole tree")
    func wholeTree() throws {
        let repo = try TempRepo(files: [
            "pipelines/p.yaml": "version: 1\nname: p\nstages:\n  all:\n    run: ls > ${{ outputs.list }}\n    outputs: { list: list.txt }\n",
            "a.txt": "a\n",
        ])
        try repo.mlpipe("run")
        #expect(try repo.mlpipe("run").status == 0)
        #expect(try repo.statuses() == ["all": "cached"])
        try repo.write("b.txt", "b\n")
        try repo.commit("any file")
        #expect(try repo.mlpipe("run").status == 0)
        #expect(try repo.statuses() == ["all": "succeeded"])
        #expect((try repo.stages()["all"]?["reason"] as? String ?? "").contains("the commit's tree"))
    }

    @Test("an uncommitted input is hashed from the working tree and marks the run dirty")
    func dirtyInput() throws {
        let repo = try basicRepo()
        try repo.mlpipe("run")
        try repo.write("data/input.txt", "uncommitted\n")
        let dirty = try repo.mlpipe("run")
        #expect(dirty.status == 0, "\(dirty)")
        #expect(dirty.lines.first?.contains("dirty") == true)
        #expect(try repo.show()["dirty"] as? Bool == true)
        let model = try repo.stages()["prepare"]?["outputs"] as? [[String: Any]]
        let path = model?.first?["path"] as? String ?? ""
        #expect(FileManager.default.contents(atPath: path) == Data("uncommitted\n".utf8))
        #expect((try repo.stages()["prepare"]?["reason"] as? String ?? "").contains("uncommitted changes"))
        // The same uncommitted content is cached; committing it keys by the blob, same content.
        #expect(try repo.mlpipe("run").status == 0)
        #expect(try repo.statuses()["prepare"] == "cached")

        let refused = try repo.mlpipe("run", "--require-clean")
        #expect(refused.status == 3, "\(refused)")
        #expect(refused.stderr.contains("data/input.txt"))
        #expect(refused.stderr.contains("commit or stash"))
    }

    @Test("--json prints one JSON object per event with camelCase keys")
    func jsonEvents() throws {
        let repo = try basicRepo()
        let result = try repo.mlpipe("run", "--json")
        #expect(result.status == 0)
        let events = try result.lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(events.first?["event"] as? String == "runStarted")
        #expect(events.last?["event"] as? String == "runFinished")
        #expect(events.last?["status"] as? String == "succeeded")
        let finished = events.filter { $0["event"] as? String == "stageFinished" }
        #expect(finished.count == 4)
        #expect(finished.allSatisfy { $0["durationMs"] != nil && $0["cacheKey"] is String })
    }

    @Test("--junit writes one testcase per stage, with the failure's message")
    func junit() throws {
        let repo = try basicRepo()
        try repo.write("scripts/train.sh", "echo boom >&2; exit 4\n")
        try repo.commit("break")
        let result = try repo.mlpipe("run", "--junit", "report.xml")
        #expect(result.status == 1)
        let xml = repo.read("report.xml") ?? ""
        #expect(xml.contains("<testsuite name=\"demo\""))
        #expect(xml.components(separatedBy: "<testcase ").count - 1 == 4)
        #expect(xml.contains("<failure message=\"command exited with status 4\" type=\"exit 4\">boom</failure>"), "\(xml)")
        #expect(xml.contains("<skipped message=\"skipped: upstream train did not succeed\"/>"), "\(xml)")
    }
}
