import ArgumentParser
import ContainerImage
import Foundation
import PipelineEngine

/// `mlpipe cache ls|gc|verify|push|pull`.
struct CacheCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache", abstract: "Inspect, clean and verify the stage cache.",
        subcommands: [Ls.self, GC.self, Verify.self, Push.self, Pull.self])

    struct Ls: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List cache entries.")
        @OptionGroup var workspace: WorkspaceOptions

        func run() async throws {
            let entries = try await StageCache.open(RunOptions(workspace: workspace.resolved)).list()
            let console = Console.shared
            if entries.isEmpty { console.out("the cache is empty"); return }
            console.out("KEY                  PIPELINE        STAGE          RUN     SIZE        LAST USED")
            for e in entries {
                console.out([col(String(e.key.dropFirst(7).prefix(20)), 20), col(e.pipeline, 15), col(e.stage, 14), col("#\(e.runID)", 7),
                             col(bytes(e.size), 11), LocalTime.timestamp(e.lastUsedAt) + (e.complete ? "" : "  (objects missing)")]
                    .joined(separator: " "))
            }
        }
    }

    struct GC: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gc",
            abstract: "Remove cache entries not used recently (keeping each stage's newest), the objects nobody needs, and containerize's layer and requirements caches not used recently.")
        @Option(name: .long, help: "Keep entries used within this many days.") var keepDays: Double = 7
        @OptionGroup var workspace: WorkspaceOptions

        func run() async throws {
            let options = RunOptions(workspace: workspace.resolved)
            let report = try await StageCache.open(options).collectGarbage(keepDays: keepDays)
            Console.shared.out("removed \(report.entriesRemoved) cache entries and \(report.objectsRemoved) objects, freeing \(bytes(report.bytesFreed)) of disk; kept \(report.entriesKept) entries")
            if report.objectsHeld > 0 {
                Console.shared.out("\(bytes(report.bytesHeld)) of \(report.objectsHeld) removed objects stay on disk, held by run folders; `mlpipe runs prune` removes old run folders")
            }
            // containerize's own caches: layers, pulled bases, installed requirements.
            let folder = try Workspace.located(options).root + "/cache"
            let cutoff = Int64(Date().timeIntervalSince1970 - keepDays * 86_400)
            let swept: BuildCacheSweeper.Report
            do {
                swept = try BuildCacheSweeper(folder: folder).sweep(unusedSince: cutoff)
            } catch {
                throw EngineError(.environment, "cache gc: \(error.description); check the permissions of \(folder)", cause: error)
            }
            if !swept.isEmpty {
                Console.shared.out("removed from \(folder): \(swept.layers) image layers, \(swept.bases) base images, "
                                   + "\(swept.requirementSets) requirement sets and \(swept.memoEntries) file digests not used "
                                   + "within \(String(format: "%g", keepDays)) days, freeing \(bytes(swept.bytesFreed))")
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "verify", abstract: "Re-hash every object; exit 1 if any does not match its name.")
        @OptionGroup var workspace: WorkspaceOptions

        func run() async throws {
            let problems = try await StageCache.open(RunOptions(workspace: workspace.resolved)).verify()
            let console = Console.shared
            for p in problems { console.error("\(p.digest): \(p.message)") }
            if problems.isEmpty { console.out("every object matches its digest") } else {
                console.error("\(problems.count) object(s) do not match; run `mlpipe cache gc` after removing them, or re-run the stages that made them with --force")
                throw ExitCode(1)
            }
        }
    }
}

extension CacheCommand {
    struct Push: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "push", abstract: "Upload a run's cached results to the remote cache.")
        @Argument(help: "A run number, a run name (`run --name`), or `latest`.") var run = "latest"
        @Option(name: .long, help: ArgumentHelp("The remote cache (default: $MLPIPE_REMOTE).", valueName: "url"))
        var remote: String?
        @OptionGroup var workspace: WorkspaceOptions

        func run() async throws {
            let transfer = try await RemoteTransfer.open(run, options: RunOptions(workspace: workspace.resolved, remote: remote))
            try render(try await transfer.push(), verb: "pushed to")
        }
    }

    struct Pull: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pull", abstract: "Download the remote cache's results for a run's stages into the local cache.")
        @Argument(help: "A run number, a run name (`run --name`), or `latest`.") var run = "latest"
        @Option(name: .long, help: ArgumentHelp("The remote cache (default: $MLPIPE_REMOTE).", valueName: "url"))
        var remote: String?
        @OptionGroup var workspace: WorkspaceOptions

        func run() async throws {
            let transfer = try await RemoteTransfer.open(run, options: RunOptions(workspace: workspace.resolved, remote: remote))
            try render(try await transfer.pull(), verb: "pulled from")
        }
    }

    /// One line per stage; exit 1 when a stage could not be moved.
    static func render(_ report: TransferReport, verb: String) throws {
        let console = Console.shared
        for line in report.lines { console.out(line) }
        console.out("run #\(report.runID): \(report.lines.count - report.missing) stage result(s) \(verb) \(report.remote)")
        if report.missing > 0 { throw ExitCode(1) }
    }
}

/// `--remote URL` and `--remote-required`, for `run` and `rerun`.
struct RemoteOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The remote cache: s3://BUCKET/PREFIX?endpoint=URL&region=R (default: $MLPIPE_REMOTE, or the pipeline's `remote:`).",
        valueName: "url"))
    var remote: String?

    @Flag(name: .long, help: "Fail (exit 3) when the remote cache cannot be used, instead of a warning and a local run.")
    var remoteRequired = false
}

/// "1.2 MB".
func bytes(_ n: Int64) -> String {
    let units = ["B", "KB", "MB", "GB", "TB"]
    var value = Double(n), unit = 0
    while value >= 1000 && unit < units.count - 1 { value /= 1000; unit += 1 }
    return unit == 0 ? "\(n) B" : String(format: "%.1f", value) + " " + units[unit]
}
