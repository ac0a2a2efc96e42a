import Foundation
import PipelineEngine
import PipelineSpec
import RunStore
import Testing

/// A kind written for this test: one file, one `register` line.
struct GreetKind: StageKind {
    var schema: KindSchema { KindSchema(name: "greet", required: ["name"], optional: ["punctuation"]) }
    var implementationVersion: String { "7" }

    func run(_ context: StageContext) async throws -> StageResult {
        guard case .string(let name) = context.with["name"] ?? .null else { throw StageFailure("with.name must be a string") }
        let mark = context.with["punctuation"].map { $0.interpolated } ?? "!"
        context.log.line("greeting \(name) with token \(context.secrets["TOKEN"] ?? "none")")
        let text = "hello \(name)\(mark)\n"
        try Data(text.utf8).write(to: URL(fileURLWithPath: context.outputs["greeting"]!))
        return StageResult()
    }
}

@Suite("the StageKind protocol")
struct StageKindTests {
    func registry() -> KindRegistry {
        var kinds = KindRegistry.core
        kinds.register(GreetKind())
        return kinds
    }

    @Test("a new kind's with: schema is checked at lint time")
    func lintChecksSchema() throws {
        let repo = try GitFixture()
        try repo.write("pipelines/g.yaml", "version: 1\nname: g\nstages:\n  hi:\n    kind: greet\n    with: { nmae: x }\n")
        let results = try Linter(kinds: registry()).lint(["g"], currentDirectory: repo.root)
        let rendered = results.flatMap(\.diagnostics).map(\.rendered)
        #expect(rendered.contains { $0.hasPrefix("pipelines/g.yaml:") && $0.contains("'nmae'") && $0.contains("did you mean 'name'") }, "\(rendered)")
        #expect(rendered.contains { $0.contains("name") && $0.contains("required") || $0.contains("missing") }, "\(rendered)")
    }

    @Test("a registered kind runs with the run's context and its version enters the cache key")
    func runsWithContext() async throws {
        let repo = try GitFixture()
        try repo.write("pipelines/g.yaml", """
            version: 1
            name: g
            secrets:
              TOKEN: { env: GREET_TOKEN }
            stages:
              hi:
                kind: greet
                with: { name: "${{ pipeline.name }}-world" }
                outputs: { greeting: hello.txt }

            """)
        try repo.commit()
        let runner = PipelineRunner(kinds: registry(), version: "test", secretProviders: { _ in
            [EnvironmentSecretProvider(environment: ["GREET_TOKEN": "tok-123"])]
        })
        let options = RunOptions(pipeline: "g", currentDirectory: repo.root)
        let report = try await runner.run(options, events: { _ in })
        #expect(report.status == .succeeded)
        let stage = try #require(report.stages.first)
        let greeting = try String(contentsOfFile: repo.root + "/workspace/runs/\(report.runID)/hi/hello.txt", encoding: .utf8)
        #expect(greeting == "hello g-world!\n")
        let log = try String(contentsOfFile: try #require(stage.logPath), encoding: .utf8)
        #expect(log == "greeting g-world with token ***\n")
        let second = try await runner.run(options, events: { _ in })
        #expect(second.stages.first?.status == .cached)
    }
}

/// A git repository in a temporary folder.
final class GitFixture: @unchecked Sendable {
    // Used by one test at a time.
    let root: String

    init() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mlpipe-engine-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        root = url.resolvingSymlinksInPath().path
        try git(["init", "-q", "-b", "main"])
        try git(["config", "user.email", "t@example.com"])
        try git(["config", "user.name", "T"])
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func write(_ path: String, _ text: String) throws {
        let url = URL(fileURLWithPath: root + "/" + path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    func commit() throws {
        try git(["add", "-A"])
        try git(["commit", "-q", "-m", "c"])
    }

    func git(_ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: root)
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw CocoaError(.executableLoad) }
    }
}
