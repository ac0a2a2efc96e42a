import Foundation
import Testing

@Suite("Ctrl-C twice")
struct InterruptTests {
    @Test("a second Ctrl-C kills a stage that ignores SIGTERM at once, records it cancelled and prints the summary")
    func secondInterruptKills() throws {
        let pipeline = """
            version: 1
            name: s
            stages:
              stubborn:
                run: trap '' INT TERM; echo $$ > "$MAIN"; sleep 60 & echo $! > "$CHILD"; touch "$READY"; wait

            """
        let repo = try TempRepo(files: ["pipelines/s.yaml": pipeline])
        let ready = repo.path("ready")
        let process = try startProcess(mlpipeBinary, ["run"], in: repo.root,
                                       env: ["READY": ready, "MAIN": repo.path("main"), "CHILD": repo.path("child")])
        defer { if process.isRunning { kill(process.pid, SIGKILL) } }
        try waitFor("the stage to start") { FileManager.default.fileExists(atPath: ready) }
        let main = try readPid(repo.path("main")), child = try readPid(repo.path("child"))
        defer { endSurvivors([main, child]) }

        kill(process.pid, SIGINT)
        let waiting = "mlpipe: stopping 1 running stage (stubborn); waiting up to 10s for it to exit — press Ctrl-C again to kill it now"
        let said = (try? waitFor("mlpipe to say what it waits for", timeout: 5) { process.stderrSoFar.contains(waiting) }) != nil
        #expect(said, "after the first Ctrl-C: \(process.stderrSoFar)")
        #expect(isAlive(main) && isAlive(child), "the stage ignores SIGTERM and is within its grace period")

        let second = Date()
        kill(process.pid, SIGINT)
        let result = try process.finish(timeout: 30)
        #expect(Date().timeIntervalSince(second) < 3, "mlpipe ended soon after the second Ctrl-C, not after the grace period")
        #expect(result.status == 130, "\(result)")
        #expect(!isAlive(main), "the stage's shell \(main) is gone")
        try waitFor("the stage's sleep \(child) to be gone", timeout: 2) { !isAlive(child) }
        #expect(result.stderr.contains("mlpipe: killed 1 running stage (stubborn)"), "\(result)")
        #expect(result.lines.contains { $0.hasPrefix("run #1 cancelled in") }, "the summary is printed: \(result)")
        #expect(try repo.statuses() == ["stubborn": "cancelled"])
        #expect(try repo.show()["status"] as? String == "cancelled")
    }
}
