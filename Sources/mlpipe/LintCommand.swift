import ArgumentParser
import PipelineEngine
import StageKinds

/// `mlpipe lint`: checks pipeline files; exit 2 with every diagnostic when any is wrong.
struct LintCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lint", abstract: "Check pipeline files without running anything.")

    @Argument(help: "Pipeline files or names (default: every file in pipelines/).") var pipelines: [String] = []

    func run() async throws {
        let results = try Linter(kinds: BuiltinKinds.registry()).lint(pipelines)
        let console = Console.shared
        var failed = false
        for result in results {
            if result.diagnostics.isEmpty {
                let count = result.pipeline?.stages.count ?? 0
                console.out("\(result.file): ok (\(count) stage\(count == 1 ? "" : "s"))")
            } else {
                failed = true
                for diagnostic in result.diagnostics { console.error(diagnostic.rendered) }
                GitHubActions.current.emit(result.diagnostics.map(GitHubActions.annotation), json: false)
            }
        }
        if failed { throw ExitCode(2) }
    }
}
