import Foundation
import PipelineEngine
import Testing

@Suite("the workspace folder")
struct WorkspaceTests {
    @Test("a relative workspace is taken from the folder the command was given, not the process's folder")
    func relativeWorkspace() async throws {
        #expect(Workspace(repositoryRoot: "/repo", override: "ws", currentDirectory: "/repo/sub").root == "/repo/sub/ws")
        #expect(Workspace(repositoryRoot: "/repo", override: "/abs/ws", currentDirectory: "/repo/sub").root == "/abs/ws")
        #expect(Workspace(repositoryRoot: "/repo", override: nil, currentDirectory: "/repo/sub").root == "/repo/workspace")

        let repo = try GitFixture()
        try repo.write("pipelines/w.yaml", "version: 1\nname: w\nstages:\n  a:\n    run: 'true'\n")
        try repo.write("sub/.keep", "")
        try repo.commit()
        let name = "ws-\(UUID().uuidString.prefix(8))"
        let runner = PipelineRunner(kinds: .core, version: "test")
        let options = RunOptions(pipeline: "w", workspace: name, currentDirectory: repo.root + "/sub")
        let report = try await runner.run(options, events: { _ in })
        #expect(report.status == .succeeded)
        #expect(FileManager.default.fileExists(atPath: repo.root + "/sub/\(name)/mlpipe.db"))
        let stray = FileManager.default.currentDirectoryPath + "/" + name
        #expect(!FileManager.default.fileExists(atPath: stray))
        try? FileManager.default.removeItem(atPath: stray)
        let history = try await RunHistory.open(options)
        #expect(try await history.resolve("latest").id == report.runID)
    }
}
