import Foundation
import PipelineEngine

/// Runs the `git` program for the trigger worker: the fetch of a pushed commit, the clone a
/// pushed commit runs in, and reading a file at a commit.
///
/// GitState reads a repository through libgit2 but is not a git client (it never fetches
/// or checks out a branch), so these few calls go to the `git` the machine has, through
/// the engine's `LocalProcessExecutor` (its own process group, stopped on cancellation,
/// no descriptor of the server inherited). Output goes to a scratch file under the
/// workspace, removed afterwards; its last lines go into the error of a failed call.
/// `GIT_TERMINAL_PROMPT=0`: a fetch that needs a password fails instead of waiting.
struct GitCommand: Sendable {
    /// Where the output of each call is written while it runs (`workspace/tmp`).
    let scratch: String
    let executor: any Executor

    init(scratch: String, executor: any Executor = LocalProcessExecutor()) {
        self.scratch = scratch
        self.executor = executor
    }

    /// How a call ended: its exit status and its output's last lines.
    struct Outcome: Sendable {
        var status: Int32?
        var tail: [String]
        var succeeded: Bool { status == 0 }
        /// The last lines, on one line, for an error message.
        var summary: String {
            let text = tail.suffix(4).joined(separator: " | ").trimmingCharacters(in: .whitespaces)
            return text.isEmpty ? "no output" : text
        }
    }

    /// `git ARGUMENTS` in `directory`; throws only when git cannot be started.
    func run(_ arguments: [String], in directory: String, timeout: Double = 600) async throws(EngineError) -> Outcome {
        try await outcome(["git"] + arguments, in: directory, timeout: timeout)
    }

    /// The content of `path` at `commit` (`git cat-file blob COMMIT:PATH`), or nil when the
    /// commit has no such file.
    func file(_ path: String, at commit: String, in repository: String) async throws(EngineError) -> String? {
        let output = "\(scratch)/git-show-\(UUID().uuidString).out"
        defer { try? FileManager.default.removeItem(atPath: output) }
        // The blob goes to its own file: the log mixes stdout with stderr.
        let result = try await outcome(["/bin/sh", "-c", "exec git cat-file blob \"$1\" > \"$2\"", "sh", "\(commit):\(path)", output],
                                       in: repository, timeout: 120)
        guard result.succeeded else { return nil }
        do {
            return try String(contentsOfFile: output, encoding: .utf8)
        } catch {
            throw EngineError(.environment, "cannot read \(path) at commit \(commit.prefix(7)) from \(output): \(error.localizedDescription)")
        }
    }

    private func outcome(_ argv: [String], in directory: String, timeout: Double) async throws(EngineError) -> Outcome {
        do {
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        } catch {
            throw EngineError(.environment, "cannot create \(scratch) for git's output: \(error.localizedDescription); "
                + "make the workspace writable")
        }
        let logPath = "\(scratch)/git-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: logPath) }
        let log = try LogSink(path: logPath, masker: .none, tailLines: 20)
        let spec = ProcessSpec(stageName: "git", command: .argv(argv), workingDirectory: directory,
                               environment: ["GIT_TERMINAL_PROMPT": "0"],
                               inheritedEnvironment: ProcessInfo.processInfo.environment, timeout: timeout)
        let ended: ProcessOutcome
        do {
            ended = try await executor.execute(spec, log: log)
        } catch {
            try? log.close()
            throw EngineError(.environment, "cannot run \(argv.joined(separator: " ")) in \(directory): \(error); "
                + "install git (apt-get install git) and check that the folder exists")
        }
        // A log that could not be written loses only the tail of an error message.
        try? log.close()
        switch ended {
        case .exited(let code): return Outcome(status: code, tail: log.tail)
        case .timedOut: return Outcome(status: nil, tail: log.tail + ["(stopped after \(Int(timeout)) s)"])
        case .signalled, .cancelled: return Outcome(status: nil, tail: log.tail)
        }
    }
}
