import ArgumentParser
import Foundation
import PipelineEngine

/// `mlpipe logs [--follow] RUN [STAGE]`: a run's stage logs (masked when written).
struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Print the logs of a run's stages.")

    @Argument(help: "A run number, a run name (`run --name`), or `latest`.") var run: String
    @Argument(help: "One stage, an instance of a matrix stage (`train[lr=0.1]`), or a matrix stage for all its instances (default: every stage that has a log).") var stage: String?
    @Flag(name: [.short, .long], help: "Keep printing the log as it grows, until the stage (or the run) ends; waits for a stage that has not started.")
    var follow = false
    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var store: StoreOptions

    func run() async throws {
        let history = try await RunHistory.open(RunOptions(workspace: workspace.resolved))
        let record = try await history.resolve(run)
        let id = record.id ?? 0
        if let pruned = record.prunedAt {
            throw EngineError(.definition,
                "the folder of run #\(id) was pruned on \(LocalTime.timestamp(pruned)) (`mlpipe runs prune`), and its logs with it; `mlpipe runs show \(id)` still shows its record")
        }
        let console = Console.shared
        if follow {
            let follower = try await LogFollower.open(RunOptions(workspace: workspace.resolved))
            try await follower.follow(String(id), stage: stage) { event in
                switch event {
                case .line(_, let text): console.out(text)
                case .header(let name): console.out(console.paint("==> \(name) <==", .bold))
                case .note(let text): console.error("mlpipe: " + text)
                }
            }
            return
        }
        let logs = try await history.logs(String(id), stage: stage)
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
