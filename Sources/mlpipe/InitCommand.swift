import ArgumentParser
import Foundation
import PipelineEngine

/// `mlpipe init`: pipelines/, templates/ and workspace/ in the current repository.
struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Scaffold pipelines/, templates/ and workspace/ in this git repository.")

    func run() async throws {
        let result = try Scaffold.run(in: FileManager.default.currentDirectoryPath)
        let console = Console.shared
        for path in result.created { console.out("created \(path)") }
        for path in result.existing { console.out("exists  \(path)") }
        if result.hasCommits {
            console.out("next: `mlpipe lint` checks the pipeline, `mlpipe run` runs it")
        } else {
            console.out("next: this repository has no commit yet, and mlpipe runs a commit: "
                + "`git add pipelines templates && git commit -m 'Add an mlpipe pipeline'`, then `mlpipe run`")
        }
    }
}
