import Foundation
import Testing

/// `mlpipe logs --follow`: a running stage's log as it grows, from another process.
@Suite("logs --follow")
struct LogsFollowTests {
    /// `first` prints a line, waits for the file named by GATE, prints another;
    /// `second` runs after it.
    static let pipeline = """
        version: 1
        name: gated
        env:
          GATE: GATE_PATH
        stages:
          first:
            run: echo "first started"; while [ ! -f "$GATE" ]; do sleep 0.05; done; echo "first ended"
          second:
            needs: [first]
            run: echo "second ran"

        """

    static func repo() throws -> (TempRepo, String) {
        let gate = FileManager.default.temporaryDirectory.appendingPathComponent("gate-\(UUID().uuidString)").path
        let repo = try TempRepo(files: ["pipelines/gated.yaml": pipeline.replacingOccurrences(of: "GATE_PATH", with: gate)])
        return (repo, gate)
    }

    /// What a child has written to stdout so far.
    static func stdoutSoFar(_ child: Child) -> String {
        String(decoding: (try? Data(contentsOf: child.out)) ?? Data(), as: UTF8.self)
    }

    @Test("logs -f prints a running stage's log, follows it, and ends when the stage ends", .timeLimit(.minutes(2)))
    func followRunningStage() throws {
        let (repo, gate) = try Self.repo()
        defer { try? FileManager.default.removeItem(atPath: gate) }
        let run = try Child(mlpipeBinary, ["run"], in: repo.root)
        defer {
            // Opening the gate lets the stage end even when the test failed before it did.
            FileManager.default.createFile(atPath: gate, contents: Data())
            endSurvivors([run.pid])
        }
        try waitFor("first's log") { repo.read("workspace/runs/1/first.log")?.contains("first started") == true }

        let follower = try Child(mlpipeBinary, ["logs", "-f", "1", "first"], in: repo.root)
        defer { endSurvivors([follower.pid]) }
        try waitFor("the follower to print the first line") { Self.stdoutSoFar(follower) == "first started\n" }
        // The stage still runs: so does the follower.
        #expect(follower.isRunning)

        FileManager.default.createFile(atPath: gate, contents: Data())
        let followed = try follower.finish(timeout: 60)
        #expect(followed.status == 0, "\(followed)")
        #expect(followed.stdout == "first started\nfirst ended\n", "\(followed)")
        #expect(try run.finish(timeout: 60).status == 0)
    }

    @Test("logs --follow waits for a stage that has not started, then follows it", .timeLimit(.minutes(2)))
    func waitsForStage() throws {
        let (repo, gate) = try Self.repo()
        defer { try? FileManager.default.removeItem(atPath: gate) }
        let run = try Child(mlpipeBinary, ["run"], in: repo.root)
        defer {
            // Opening the gate lets the stage end even when the test failed before it did.
            FileManager.default.createFile(atPath: gate, contents: Data())
            endSurvivors([run.pid])
        }
        try waitFor("first's log") { repo.read("workspace/runs/1/first.log")?.contains("first started") == true }

        let follower = try Child(mlpipeBinary, ["logs", "--follow", "latest", "second"], in: repo.root)
        defer { endSurvivors([follower.pid]) }
        try waitFor("the follower to say it waits") { follower.stderrSoFar.contains("waiting for stage 'second' of run #1 to start") }
        #expect(follower.isRunning)
        #expect(Self.stdoutSoFar(follower).isEmpty)

        FileManager.default.createFile(atPath: gate, contents: Data())
        let followed = try follower.finish(timeout: 60)
        #expect(followed.status == 0, "\(followed)")
        #expect(followed.stdout == "second ran\n", "\(followed)")
        #expect(try run.finish(timeout: 60).status == 0)
    }

    @Test("logs --follow of every stage marks each stage's lines, and of a finished run prints and ends")
    func everyStage() throws {
        let (repo, gate) = try Self.repo()
        defer { try? FileManager.default.removeItem(atPath: gate) }
        FileManager.default.createFile(atPath: gate, contents: Data())
        #expect(try repo.mlpipe("run").status == 0)
        let result = try repo.mlpipe("logs", "-f", "1", timeout: 30)
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout == "==> first <==\nfirst started\nfirst ended\n==> second <==\nsecond ran\n", "\(result)")

        let unknown = try repo.mlpipe("logs", "-f", "1", "secnd", timeout: 30)
        #expect(unknown.status == 2, "\(unknown)")
        #expect(unknown.stderr.contains("run #1 has no stage 'secnd'; did you mean 'second'?"), "\(unknown)")
    }
}
