import Foundation
@testable import PipelineEngine
import PipelineSpec
import RunStore
import S3Store
import Testing

/// The engine with an ``InMemoryRemoteCache``: two workspaces of one repository share
/// nothing but the remote.
@Suite("the remote cache, on an in-memory remote")
struct RemoteCacheEngineTests {
    func repository() throws -> GitFixture {
        let repo = try GitFixture()
        try repo.write("pipelines/r.yaml", """
            version: 1
            name: r
            stages:
              make:
                run: echo made > ${{ outputs.file }}
                outputs: { file: made.txt }
              use:
                run: cat ${{ stages.make.outputs.file }} > ${{ outputs.copy }}
                outputs: { copy: copy.txt }

            """)
        try repo.commit()
        return repo
    }

    func runner(_ remote: InMemoryRemoteCache) -> PipelineRunner {
        var runner = PipelineRunner(kinds: .core, version: "test")
        runner.remoteCaches = { _, _ in remote }
        return runner
    }

    func options(_ repo: GitFixture, workspace: String, required: Bool = false) -> RunOptions {
        RunOptions(pipeline: "r", workspace: repo.root + "/" + workspace, currentDirectory: repo.root,
                   remote: "s3://team-cache/r", remoteRequired: required)
    }

    @Test("a result computed in one workspace is taken from the remote in another, with its origin")
    func sharedThroughRemote() async throws {
        let repo = try repository()
        let remote = InMemoryRemoteCache()
        let first = try await runner(remote).run(options(repo, workspace: "a"), events: { _ in })
        #expect(first.stages.map(\.status) == [.succeeded, .succeeded])
        #expect(remote.entries.count == 2)

        let second = try await runner(remote).run(options(repo, workspace: "b"), events: { _ in })
        #expect(second.stages.map(\.status) == [.cached, .cached])
        #expect(second.stages.allSatisfy { $0.cachedFrom == nil })
        #expect(second.stages.first?.reason?.hasPrefix("cached from remote memory://remote: run #1 on ") == true)
        let copy = try String(contentsOfFile: repo.root + "/b/runs/\(second.runID)/use/copy.txt", encoding: .utf8)
        #expect(copy == "made\n")
    }

    @Test("a remote that is down is one warning in the whole run, and the stages run locally")
    func downIsOneWarning() async throws {
        let repo = try repository()
        let remote = InMemoryRemoteCache()
        remote.setDown(true)
        let report = try await runner(remote).run(options(repo, workspace: "a"), events: { _ in })
        #expect(report.status == .succeeded)
        let warnings = report.stages.flatMap(\.warnings)
        #expect(warnings == ["the remote cache memory://remote cannot be used (memory://remote: no answer (connection refused)); "
            + "this run goes on without it (--remote-required makes this an error)"])
    }

    @Test("with --remote-required, a remote that is down stops the run before it starts")
    func requiredAndDown() async throws {
        let repo = try repository()
        let remote = InMemoryRemoteCache()
        remote.setDown(true)
        await #expect {
            _ = try await runner(remote).run(options(repo, workspace: "a", required: true), events: { _ in })
        } throws: { error in
            (error as? EngineError)?.category == .environment
                && "\(error)".hasPrefix("the remote cache memory://remote is required (--remote-required) but cannot be used")
        }
    }

    @Test("the first writer of a key wins; a later writer keeps the winner's entry")
    func firstWriterWins() async throws {
        let remote = InMemoryRemoteCache()
        let origin = { (run: Int64) in ActionEntry.Origin(run: run, host: "h", pipeline: "r", createdAt: Date()) }
        let key = "sha256:" + String(repeating: "a", count: 64)
        let first = ActionEntry(key: key, stage: "s", outputs: [], metricsJSON: nil, resultsJSON: nil, origin: origin(1))
        let second = ActionEntry(key: key, stage: "s", outputs: [], metricsJSON: nil, resultsJSON: nil, origin: origin(2))
        #expect(try await remote.publish(first) == first)
        #expect(try await remote.publish(second) == first)
        #expect(remote.entries[key] == first)
    }
}
