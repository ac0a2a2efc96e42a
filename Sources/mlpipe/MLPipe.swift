import ArgumentParser
import Foundation
import PipelineEngine
import PipelineSpec

/// The `mlpipe` command: parses arguments, calls one library entry point, renders.
@main
struct MLPipe: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "mlpipe",
        abstract: "Run ML pipelines from your git repository: DAG stages, git-keyed cache, run history.",
        version: version,
        subcommands: [RunCommand.self, StatusCommand.self, RerunCommand.self, RunsCommand.self, LogsCommand.self, CheckoutCommand.self, ExpCommand.self,
                      GraphCommand.self, LintCommand.self, CacheCommand.self, InitCommand.self, ScanCommand.self, ModelsCommand.self,
                      ImageCommand.self, DeploymentsCommand.self, ServeCommand.self, SmokeCommand.self, ExportCommand.self])

    /// Runs the command and sets the exit status in one place:
    /// 0 ok, 1 a stage failed, 2 usage or definition, 3 environment, 130 interrupt.
    static func main() async {
        let code = await runCommand()
        // Output that could not be written (stdout on a full disk) makes a command that
        // otherwise succeeded, or only had a failed stage, an environment error.
        if code == 0 || code == 1, let failure = Console.shared.stdoutFailure {
            Console.shared.error("mlpipe: error: cannot write to standard output: \(String(cString: strerror(failure))); "
                + "free space where it is redirected, or redirect it elsewhere")
            Foundation.exit(3)
        }
        Foundation.exit(code)
    }

    /// Runs the command line's command and returns its exit status.
    static func runCommand() async -> Int32 {
        if VersionFastPath.handle(CommandLine.arguments) { return 0 }
        var wantsJSON = false
        do {
            var command = try parseAsRoot()
            wantsJSON = (command as? JSONReporting)?.json ?? false
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            return 0
        } catch let error as EngineError {
            if wantsJSON {
                Console.shared.out(jsonError(error).canonicalJSON())
            } else {
                Console.shared.error(render(error))
            }
            GitHubActions.current.emit(error.diagnostics.map(GitHubActions.annotation), json: wantsJSON)
            return error.category == .definition ? 2 : 3
        } catch let exit as ExitCode {
            return exit.rawValue
        } catch {
            let code = exitCode(for: error)
            if code == .success || code.rawValue == 0 {
                // --help and --version print to stdout.
                print(fullMessage(for: error))
                return 0
            }
            Console.shared.error(fullMessage(for: error))
            // argument-parser's own usage errors (64) are usage errors: 2.
            return code.rawValue == 64 || code == .validationFailure ? 2 : code.rawValue
        }
    }

    /// An error as the one JSON object a `--json` command prints instead of its output:
    /// `{"error": {"category", "exitCode", "message", "diagnostics": [{file, line, column, message}]}}`.
    static func jsonError(_ error: EngineError) -> Value {
        let category = switch error.category {
        case .definition: "definition"
        case .environment: "environment"
        case .internal: "internal"
        }
        let diagnostics: [Value] = error.diagnostics.map { diagnostic in
            .object(["file": .string(diagnostic.location.file), "line": .int(diagnostic.location.line),
                     "column": .int(diagnostic.location.column), "message": .string(diagnostic.message)])
        }
        return .object(["error": .object(["category": .string(category),
                                          "exitCode": .int(error.category == .definition ? 2 : 3),
                                          "message": .string(error.message), "diagnostics": .array(diagnostics)])])
    }

    static func render(_ error: EngineError) -> String {
        if !error.diagnostics.isEmpty {
            return error.diagnostics.map(\.rendered).joined(separator: "\n")
        }
        return "mlpipe: error: " + error.message
    }
}

/// A command with a `--json` flag: its errors are printed as JSON too.
protocol JSONReporting {
    var json: Bool { get }
}

extension RunCommand: JSONReporting {}
extension StatusCommand: JSONReporting {}
extension RerunCommand: JSONReporting {}
extension RunsCommand.List: JSONReporting {}
extension RunsCommand.Show: JSONReporting {}
extension RunsCommand.Diff: JSONReporting {}

/// Options shared by the commands that open a repository's workspace.
struct WorkspaceOptions: ParsableArguments {
    @Option(name: .long, help: "The workspace folder (default: <repo>/workspace, or $MLPIPE_WORKSPACE).")
    var workspace: String?

    var resolved: String? { workspace ?? ProcessInfo.processInfo.environment["MLPIPE_WORKSPACE"] }
}

/// The pipeline a command works on and its param overrides: `run` and `status` take
/// the same two, checked the same way.
struct PipelineSelection: ParsableArguments {
    @Argument(help: "A pipeline file, or a name under pipelines/ (optional when there is one).")
    var pipeline: String?

    @Option(name: .customLong("param"), help: ArgumentHelp("Override a param.", valueName: "key=value"))
    var params: [String] = []

    func validate() throws {
        for param in params where ParamOverride(parsing: param) == nil {
            throw ValidationError("--param takes key=value, got '\(param)'")
        }
    }

    var overrides: [ParamOverride] { params.compactMap(ParamOverride.init(parsing:)) }
}

/// Stage failed: exit 1. Interrupted: 130.
enum RunExit {
    static func code(for status: String) -> Int32 {
        switch status {
        case "succeeded": 0
        case "cancelled", "interrupted": 130
        default: 1
        }
    }
}
