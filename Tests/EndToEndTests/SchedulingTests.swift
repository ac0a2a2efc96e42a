import Foundation
import Testing

@Suite("scheduling, failures, retries and re-runs")
struct SchedulingTests {
    /// Two stages that can only finish when they run at the same time: each waits for
    /// the other's marker file.
    static let rendezvous = """
        version: 1
        name: meet
        stages:
          left:
            run: touch "$MARKS/left"; for i in $(seq 100); do [ -e "$MARKS/right" ] && exit 0; sleep 0.05; done; exit 9
            inputs: [seed.txt]
          right:
            run: touch "$MARKS/right"; for i in $(seq 100); do [ -e "$MARKS/left" ] && exit 0; sleep 0.05; done; exit 9
            inputs: [seed.txt]
          after:
            run: for i in $(seq 200); do echo "line $i of a long line that must not be cut by other output"; done
            needs: [left, right]
            inputs: [seed.txt]

        """

    @Test("independent stages run concurrently up to --jobs, and lines never interleave")
    func concurrency() throws {
        let repo = try TempRepo(files: ["pipelines/meet.yaml": Self.rendezvous, "seed.txt": "1\n"])
        let marks = repo.path("marks")
        try FileManager.default.createDirectory(atPath: marks, withIntermediateDirectories: true)
        let parallel = try repo.mlpipe("run", "--jobs", "2", "--no-cache", env: ["MARKS": marks])
        #expect(parallel.status == 0, "\(parallel)")
        for line in parallel.lines {
            #expect(line.hasPrefix("run #") || line.range(of: #"^\d\d:\d\d:\d\d \w+ +\w+"#, options: .regularExpression) != nil, "\(line)")
        }
        try FileManager.default.removeItem(atPath: marks)
        try FileManager.default.createDirectory(atPath: marks, withIntermediateDirectories: true)
        let serial = try repo.mlpipe("run", "--jobs", "1", "--no-cache", env: ["MARKS": marks])
        #expect(serial.status == 1, "with one job the two stages cannot meet: \(serial)")
    }

    @Test("more jobs than cores start together: six stages that each wait for all six meet within a second and a half")
    func moreJobsThanCores() throws {
        var pipeline = "version: 1\nname: six\nstages:\n"
        for index in 0..<6 {
            pipeline += """
                  s\(index):
                    run: touch "$MARKS/\(index)"; for i in $(seq 30); do [ $(ls "$MARKS" | wc -l) -ge 6 ] && exit 0; sleep 0.05; done; exit 9

                """
        }
        let repo = try TempRepo(files: ["pipelines/six.yaml": pipeline])
        let marks = repo.path("marks")
        try FileManager.default.createDirectory(atPath: marks, withIntermediateDirectories: true)
        let result = try repo.mlpipe("run", "--jobs", "6", "--no-cache", env: ["MARKS": marks])
        #expect(result.status == 0, "\(result)")
    }

    static let failing = """
        version: 1
        name: fail
        stages:
          broken:
            run: echo "first line"; echo "the error detail" >&2; exit 3
          downstream:
            run: echo never
            needs: [broken]
          further:
            run: echo never
            needs: [downstream]
          unrelated:
            run: sleep 0.3; echo fine > ${{ outputs.out }}
            outputs: { out: out.txt }

        """

    @Test("a failing stage skips its downstream, lets unrelated stages finish and exits 1 with its last log lines")
    func failure() throws {
        let repo = try TempRepo(files: ["pipelines/fail.yaml": Self.failing])
        let result = try repo.mlpipe("run")
        #expect(result.status == 1, "\(result)")
        #expect(try repo.statuses() == ["broken": "failed", "downstream": "skipped", "further": "skipped", "unrelated": "succeeded"])
        #expect(result.stderr.contains("  | the error detail"), "\(result)")
        #expect(result.stdout.contains("broken") && result.stdout.contains("failed") && result.stdout.contains("command exited with status 3"))
        let broken = try repo.stages()["broken"]
        #expect(broken?["exitCode"] as? Int == 3)
        #expect(try repo.show()["status"] as? String == "failed")
    }

    @Test("a stage past its timeout is stopped and fails")
    func timeout() throws {
        let repo = try TempRepo(files: ["pipelines/t.yaml": "version: 1\nname: t\nstages:\n  slow:\n    run: sleep 30\n    timeout: 1s\n"])
        let start = Date()
        let result = try repo.mlpipe("run")
        #expect(result.status == 1, "\(result)")
        #expect(Date().timeIntervalSince(start) < 20)
        #expect(result.stdout.contains("timed out after 1s"), "\(result)")
        #expect(try repo.statuses() == ["slow": "failed"])
    }

    @Test("retries run the stage again and the attempts are recorded")
    func retries() throws {
        let script = "n=$(cat \"$COUNTER\" 2>/dev/null || echo 0); n=$((n+1)); echo $n > \"$COUNTER\"; [ $n -ge 3 ]"
        let repo = try TempRepo(files: ["pipelines/r.yaml": "version: 1\nname: r\nstages:\n  flaky:\n    run: '\(script)'\n    retries: 3\n"])
        let counter = repo.path("counter")
        let result = try repo.mlpipe("run", env: ["COUNTER": counter])
        #expect(result.status == 0, "\(result)")
        #expect(try repo.stages()["flaky"]?["attempts"] as? Int == 3)
        #expect(result.stdout.contains("retrying"))
        #expect(result.stdout.contains("after 3 attempts"))
    }

    @Test("rerun makes a linked run that reuses what succeeded and runs the rest")
    func rerun() throws {
        let repo = try basicRepo()
        try repo.write("scripts/eval.sh", "exit 5\n")
        try repo.commit("break evaluate")
        #expect(try repo.mlpipe("run").status == 1)
        // Fix the environment the stage depends on without changing the commit.
        try repo.write("scripts/eval.sh", "echo '{}'\n")
        let rerun = try repo.mlpipe("rerun", "1")
        // HEAD did not move, so the rerun uses the working tree; evaluate now passes.
        #expect(rerun.status == 0, "\(rerun)")
        let run = try repo.show()
        #expect(run["parentRun"] as? Int == 1)
        #expect(run["trigger"] as? String == "rerun")
        let stages = try repo.stages()
        #expect(stages["prepare"]?["status"] as? String == "cached")
        #expect(stages["prepare"]?["cachedFrom"] as? Int == 1)
        #expect(stages["evaluate"]?["status"] as? String == "succeeded")

        let from = try repo.mlpipe("rerun", "2", "--from", "train")
        #expect(from.status == 0, "\(from)")
        let forced = try repo.statuses()
        #expect(forced["prepare"] == "cached" && forced["docs"] == "cached")
        #expect(forced["train"] == "succeeded" && forced["evaluate"] == "succeeded")
    }

    @Test("rerun of an old commit runs in a temporary worktree of that commit")
    func rerunOldCommit() throws {
        let repo = try basicRepo()
        try repo.write("scripts/eval.sh", "exit 5\n")
        try repo.commit("break evaluate")
        let brokenCommit = try repo.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try repo.mlpipe("run").status == 1)
        try repo.write("data/input.txt", "moved on\n")
        try repo.commit("later work")
        let rerun = try repo.mlpipe("rerun", "latest", "--from", "prepare")
        #expect(rerun.status == 1, "the old commit still fails: \(rerun)")
        let run = try repo.show()
        #expect(run["commit"] as? String == brokenCommit)
        #expect(run["parentRun"] as? Int == 1)
        let prepare = try repo.stages()["prepare"]?["outputs"] as? [[String: Any]]
        let path = prepare?.first?["path"] as? String ?? ""
        #expect(FileManager.default.contents(atPath: path) == Data("one\ntwo\n".utf8), "the old commit's input, not the working tree's")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: repo.path("workspace/worktrees")))?.isEmpty ?? true)
    }
}
