import ArgumentParser
import Foundation
import PipelineEngine

/// `mlpipe logs RUN [STAGE]`: a run's stage logs (masked when written).
struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Print the logs of a run's stages.")

    @Argument(help: "A run number, or `latest`.") var run: String
    @Argument(help: "One stage, an instance of a matrix stage (`train[lr=0.1]`), or a matrix stage for all its instances (default: every stage that has a log).") var stage: String?
    @OptionGroup var workspace: WorkspaceOptions

    func run() async throws {
        let history = try await RunHistory.open(RunOptions(workspace: workspace.resolved))
        let record = try await history.resolve(run)
        let id = record.id ?? 0
        if let pruned = record.prunedAt {
            throw EngineError(.definition,
                "the folder of run #\(id) was pruned on \(LocalTime.timestamp(pruned)) (`mlpipe runs prune`), and its logs with it; `mlpipe runs show \(id)` still shows its record")
        }
        let logs = try await history.logs(String(id), stage: stage)
        let console = Console.shared
        for (name, path, madeBy) in logs {
            if let madeBy {
                console.error("mlpipe: \(name) was cached in run #\(id); this is the log of run #\(madeBy), which made its result")
            }
            // A header per stage, unless one stage was asked for (a matrix stage's name gives several).
            if name != stage { console.out(console.paint("==> \(name) <==", .bold)) }
            guard let data = FileManager.default.contents(atPath: path) else {
                console.error("mlpipe: the log of \(name) is gone (\(path))")
                continue
            }
            let text = String(decoding: data, as: UTF8.self)
            if !text.isEmpty { console.out(text) }
        }
    }
}
