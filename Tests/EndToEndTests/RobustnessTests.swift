import Foundation
import Testing

@Suite("concurrent runs, kills and interrupts")
struct RobustnessTests {
    @Test("several runs on one workspace at once all finish, and a stage is computed once")
    func concurrentRuns() throws {
        let pipeline = "version: 1\nname: c\nstages:\n  work:\n    run: echo x >> \"$TALLY\"; sleep 1; echo done > ${{ outputs.out }}\n    outputs: { out: out.txt }\n    inputs: [seed.txt]\n"
        let repo = try TempRepo(files: ["pipelines/c.yaml": pipeline, "seed.txt": "1\n"])
        let tally = repo.path("tally")
        let results = try (0..<4).map { _ in
            try startProcess(mlpipeBinary, ["run"], in: repo.root, env: ["TALLY": tally])
        }.map { try $0.finish() }
        for result in results { #expect(result.status == 0, "\(result)") }
        #expect(repo.read("tally") == "x\n", "the stage ran once; the other runs waited and took its result")
        let runs = try repo.mlpipe("runs", "--json").json() as? [[String: Any]] ?? []
        #expect(runs.count == 4)
        #expect(runs.allSatisfy { $0["status"] as? String == "succeeded" })
    }

    @Test("a run killed with SIGKILL is shown as interrupted by the next command, and its half output never enters the store")
    func sigkill() throws {
        let pipeline = "version: 1\nname: k\nstages:\n  slow:\n    run: echo partial > ${{ outputs.out }}; sleep 60 & echo $! > \"$CHILD\"; echo $$ > \"$MAIN\"; touch \"$READY\"; wait\n    outputs: { out: out.txt }\n"
        let repo = try TempRepo(files: ["pipelines/k.yaml": pipeline])
        let ready = repo.path("ready")
        let process = try startProcess(mlpipeBinary, ["run"], in: repo.root,
                                       env: ["READY": ready, "MAIN": repo.path("main"), "CHILD": repo.path("child")])
        try waitFor("the stage to start") { FileManager.default.fileExists(atPath: ready) }
        // The stage's group outlives a SIGKILLed mlpipe: the test ends it by its pids.
        let pids = [try readPid(repo.path("main")), try readPid(repo.path("child"))]
        defer { endSurvivors(pids) }
        kill(process.pid, SIGKILL)
        _ = try? process.finish()
        let runs = try repo.mlpipe("runs", "--json").json() as? [[String: Any]] ?? []
        #expect(runs.first?["status"] as? String == "interrupted")
        #expect(try repo.statuses()["slow"] == "cancelled")
        let objects = FileManager.default.enumerator(atPath: repo.path("workspace/objects/sha256"))?.allObjects ?? []
        #expect(objects.isEmpty, "no object was stored: \(objects)")
    }

    @Test("SIGINT cancels running stages with their whole process group, records cancelled and exits 130")
    func sigint() throws {
        let pipeline = """
            version: 1
            name: i
            stages:
              slow:
                run: sleep 300 & echo $! > "$CHILD"; touch "$READY"; wait
              later:
                run: echo never
                needs: [slow]

            """
        let repo = try TempRepo(files: ["pipelines/i.yaml": pipeline])
        let ready = repo.path("ready")
        let process = try startProcess(mlpipeBinary, ["run"], in: repo.root, env: ["READY": ready, "CHILD": repo.path("child")])
        try waitFor("the stage to start") { FileManager.default.fileExists(atPath: ready) }
        let child = try readPid(repo.path("child"))
        defer { endSurvivors([child]) }
        kill(process.pid, SIGINT)
        let result = try process.finish(timeout: 30)
        #expect(result.status == 130, "\(result)")
        #expect(result.stderr.contains("mlpipe: stopping 1 running stage (slow); waiting up to 10s for it to exit"), "\(result)")
        #expect(try repo.statuses() == ["slow": "cancelled", "later": "cancelled"])
        #expect(try repo.show()["status"] as? String == "cancelled")
        try waitFor("the background child \(child) to be gone with its group", timeout: 5) { !isAlive(child) }
    }

    @Test("cache gc refuses while a run is in progress")
    func gcDuringRun() throws {
        let pipeline = "version: 1\nname: g\nstages:\n  slow:\n    run: touch \"$READY\"; sleep 3\n"
        let repo = try TempRepo(files: ["pipelines/g.yaml": pipeline])
        let ready = repo.path("ready")
        let process = try startProcess(mlpipeBinary, ["run"], in: repo.root, env: ["READY": ready])
        try waitFor("the stage to start") { FileManager.default.fileExists(atPath: ready) }
        let gc = try repo.mlpipe("cache", "gc")
        #expect(gc.status == 3, "\(gc)")
        #expect(try process.finish().status == 0)
        #expect(try repo.mlpipe("cache", "gc").status == 0)
    }
}

/// Starts a program in the background, with output to temp files.
func startProcess(_ executable: String, _ args: [String], in directory: String, env: [String: String] = [:]) throws -> Child {
    try Child(executable, args, in: directory, env: env)
}
