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
        console.out("next: `mlpipe lint` checks the pipeline, `mlpipe run` runs it")
    }
}
