import Foundation
import PipelineSpec

/// `kind: command`: runs `run:` with `/bin/sh -c` in the repository root.
///
/// A non-zero exit fails the stage with the exit code; the timeout applies per attempt.
public struct CommandKind: StageKind {
    public typealias Settings = NoSettings

    public init() {}

    public var schema: KindSchema {
        KindSchema(name: "command", runAllowed: true, runRequired: true, cachedByDefault: true)
    }

    public var implementationVersion: String { "1" }

    public func run(_ context: StageContext, settings: NoSettings) async throws -> StageResult {
        guard let command = context.command else {
            throw StageFailure("stage \(context.stageName) has no run: line")
        }
        let spec = ProcessSpec(stageName: context.stageName, command: .shell(command),
                               workingDirectory: context.repositoryRoot, environment: context.environment,
                               inheritedEnvironment: context.inheritedEnvironment, timeout: context.timeout)
        let outcome = try await context.executor.execute(spec, log: context.log)
        switch outcome {
        case .exited(0):
            return StageResult(exitCode: 0)
        case .exited(let code):
            throw StageFailure("command exited with status \(code)", exitCode: code)
        case .signalled(let signal):
            throw StageFailure("command was killed by signal \(signal)", exitCode: 128 + signal)
        case .timedOut:
            throw StageFailure("command timed out after \(formatSeconds(context.timeout ?? 0))", reason: .timedOut)
        case .cancelled:
            throw StageFailure("cancelled", reason: .cancelled)
        }
    }
}

/// "90s", "2m05s", "1h00m": for messages.
func formatSeconds(_ seconds: Double) -> String {
    if seconds < 60 { return seconds == seconds.rounded() ? "\(Int(seconds))s" : String(format: "%.1fs", seconds) }
    let total = Int(seconds.rounded())
    if total < 3600 { return String(format: "%dm%02ds", total / 60, total % 60) }
    return String(format: "%dh%02dm", total / 3600, (total % 3600) / 60)
}
