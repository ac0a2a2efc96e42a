import Foundation
import PipelineEngine
import PipelineSpec
import RunStore
import StageKinds
import Testing

/// The `with:` of a `greet` stage.
struct GreetSettings: KindSettings {
    var name: String
    var punctuation: String?
}

/// A kind written for this test: one file, one `register` line.
struct GreetKind: StageKind {
    var version = "7"
    /// A result key to return beside `greeting`, which the schema does not declare.
    var undeclaredResult: String?

    var schema: KindSchema { KindSchema(name: "greet", settings: GreetSettings.self, results: ["greeting"]) }
    var implementationVersion: String { version }

    func secrets(for settings: GreetSettings) -> [String] { ["TOKEN"] }

    func run(_ context: StageContext, settings: GreetSettings) async throws -> StageResult {
        let text = "hello \(settings.name)\(settings.punctuation ?? "!")"
        context.log.line("greeting \(settings.name) with token \(context.secrets["TOKEN"] ?? "none")")
        if let path = context.outputs["greeting"] {
            try Data((text + "\n").utf8).write(to: URL(fileURLWithPath: path))
        }
        var results: [String: Value] = ["greeting": .string(text)]
        if let undeclaredResult { results[undeclaredResult] = .string("x") }
        return StageResult(results: results)
    }
}

@Suite("the StageKind protocol")
struct StageKindTests {
    func registry(_ kind: GreetKind = GreetKind()) -> KindRegistry {
        var kinds = KindRegistry.core
        kinds.register(kind)
        return kinds
    }

    /// A context for running a kind alone, in a temporary folder.
    func context(in folder: String) throws -> StageContext {
        StageContext(runID: 1, pipelineName: "p", stageName: "hi", repositoryRoot: folder, outputDirectory: folder,
                     outputs: ["greeting": folder + "/hello.txt"], secrets: ["TOKEN": "tok-123"],
                     log: try LogSink(path: folder + "/log.txt", masker: SecretMasker(values: ["tok-123"])),
                     executor: LocalProcessExecutor(), workspace: folder)
    }

    func temporaryFolder() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mlpipe-kind-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    @Test("a new kind's with: schema is checked at lint time")
    func lintChecksSchema() throws {
        let repo = try GitFixture()
        try repo.write("pipelines/g.yaml", "version: 1\nname: g\nstages:\n  hi:\n    kind: greet\n    with: { nmae: x }\n")
        let results = try Linter(kinds: registry()).lint(["g"], currentDirectory: repo.root)
        #expect(results.flatMap(\.diagnostics).map(\.rendered) == [
            "pipelines/g.yaml:6:5: error: stage 'hi' is missing `with:` key 'name' required by kind 'greet'; add it under `with:`",
            "pipelines/g.yaml:6:13: error: unknown `with:` key 'nmae' for kind 'greet'; did you mean 'name'?",
        ])
    }

    @Test("a kind runs alone, through StageContext's public initializer, and returns its results")
    func runsAlone() async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let context = try context(in: folder)
        let result = try await GreetKind().run(context, settings: GreetSettings(name: "world", punctuation: "?"))
        #expect(result.results == ["greeting": .string("hello world?")])
        #expect(try String(contentsOfFile: folder + "/hello.txt", encoding: .utf8) == "hello world?\n")
        try context.log.close()
        #expect(try String(contentsOfFile: folder + "/log.txt", encoding: .utf8) == "greeting world with token ***\n")

        let bound = try GreetKind().bind(["name": .string("bound")], stage: Stage(name: "hi", location: .init(file: "p.yaml", line: 4, column: 3), kind: "greet"))
        #expect(bound.secrets == ["TOKEN"])
        #expect(try await bound.run(context).results == ["greeting": .string("hello bound!")])
        #expect(try await bound.verifyCached(["greeting": .string("hello bound!")], context))
    }

    @Test("bind reports every problem of the rendered with: at the places lint reports them")
    func bindErrors() throws {
        func at(_ line: Int, _ column: Int) -> PipelineSpec.SourceLocation { PipelineSpec.SourceLocation(file: "g.yaml", line: line, column: column) }
        let stage = Stage(name: "hi", location: at(5, 3), kind: "greet", withLocations: SettingsLocations(
            block: at(6, 5), values: ["name": at(6, 13), "punctuaton": at(7, 19)], keys: ["name": at(6, 7), "punctuaton": at(7, 7)]))
        let with: [String: Value] = ["name": .int(3), "punctuaton": .string("!")]
        #expect(throws: SettingsFailure.self) { try GreetKind().bind(with, stage: stage) }
        do throws(SettingsFailure) {
            _ = try GreetKind().bind(with, stage: stage)
        } catch {
            #expect(error.description == "g.yaml:6:13: with.name: expected a string, found the number 3; put it in quotes "
                        + "if you mean text; g.yaml:7:7: unknown `with:` key 'punctuaton' for kind 'greet'; did you mean 'punctuation'?")
        }

        // A value from an expression: lint lets it through, bind reports it at the expression.
        let yaml = "version: 1\nname: g\nparams: { p: 3 }\nstages:\n  hi:\n    kind: greet\n"
            + "    with: { name: \"${{ params.p }}\" }\n"
        let loaded = try #require(try PipelineLoader.parse(source: yaml, file: "g.yaml", kinds: registry().schemas,
                                                           secretProviders: ["env", "file"]).stage(named: "hi"))
        #expect(throws: SettingsFailure.self) { try GreetKind().bind(["name": .int(3)], stage: loaded) }
        do throws(SettingsFailure) {
            _ = try GreetKind().bind(["name": .int(3)], stage: loaded)
        } catch {
            #expect(error.diagnostics.map(\.rendered)
                        == ["g.yaml:7:19: error: with.name: expected a string, found the number 3; put it in quotes if you mean text"])
        }
    }

    @Test("a result whose key the kind's schema does not declare fails the stage")
    func undeclaredResult() async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let kind = GreetKind(undeclaredResult: "extra")
        let bound = try kind.bind(["name": .string("x")], stage: Stage(name: "hi", location: .init(file: "p.yaml", line: 1, column: 1), kind: "greet"))
        await #expect(throws: StageFailure.self) { try await bound.run(context(in: folder)) }
        do {
            _ = try await bound.run(context(in: folder))
        } catch {
            #expect("\(error)" == "kind 'greet' returned result 'extra', which its schema does not declare; "
                        + "add it to the kind's `KindSchema.results`")
        }
    }

    @Test("validate, run alone, returns the model's format, verdict and digest; a folder has no digest")
    func validateResults() async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // pickle protocol 2 of an empty dict: PROTO 2, EMPTY_DICT, BINPUT 0, STOP.
        try FileManager.default.createDirectory(atPath: folder + "/model", withIntermediateDirectories: true)
        try Data([0x80, 0x02, 0x7D, 0x71, 0x00, 0x2E]).write(to: URL(fileURLWithPath: folder + "/model/m.pkl"))
        let stage = Stage(name: "validate", location: .init(file: "p.yaml", line: 1, column: 1), kind: "validate")
        var context = try context(in: folder)
        context.outputs = ["report": folder + "/report.json"]

        let file = try await ValidateKind().bind(["model": .string("model/m.pkl")], stage: stage).run(context)
        let report = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: folder + "/report.json"))) as? [String: Any])
        let digest = try #require(report["sha256"] as? String)
        #expect(digest.hasPrefix("sha256:") && digest.count == 71)
        #expect(file.results == ["format": .string("pickle"), "verdict": .string("safe"), "sha256": .string(digest)])

        let tree = try await ValidateKind().bind(["model": .string("model")], stage: stage).run(context)
        #expect(tree.results == ["format": .string("pickle"), "verdict": .string("safe"), "sha256": .null])
    }

    @Test("a registered kind runs with the run's context, and a new version of it changes the cache key")
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
                secrets: [TOKEN]

            """)
        try repo.commit()
        func runner(_ kind: GreetKind) -> PipelineRunner {
            PipelineRunner(kinds: registry(kind), version: "test", secretProviders: { _ in
                var providers = SecretProviderRegistry()
                providers.register(EnvironmentSecretProvider(environment: ["GREET_TOKEN": "tok-123"]))
                return providers
            })
        }
        let options = RunOptions(pipeline: "g", currentDirectory: repo.root)
        let report = try await runner(GreetKind()).run(options, events: { _ in })
        #expect(report.status == .succeeded)
        let stage = try #require(report.stages.first)
        let greeting = try String(contentsOfFile: repo.root + "/workspace/runs/\(report.runID)/hi/hello.txt", encoding: .utf8)
        #expect(greeting == "hello g-world!\n")
        let log = try String(contentsOfFile: try #require(stage.logPath), encoding: .utf8)
        #expect(log == "greeting g-world with token ***\n")
        let second = try await runner(GreetKind()).run(options, events: { _ in })
        #expect(second.stages.first?.status == .cached)
        #expect(second.stages.first?.cacheKey == stage.cacheKey)

        let bumped = try await runner(GreetKind(version: "8")).run(options, events: { _ in })
        let rerun = try #require(bumped.stages.first)
        #expect(rerun.status == .succeeded)
        #expect(rerun.cacheKey != stage.cacheKey)
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
