import Foundation
import PipelineSpec
import RunStore

/// A stage's cache key, encoded once: its fields, their canonical JSON and its hash.
struct StageKey: Sendable {
    var components: KeyComponents
    var canonicalJSON: String
    /// `sha256:<hex>`.
    var text: String

    init(_ components: KeyComponents) {
        self.components = components
        canonicalJSON = components.canonicalJSON
        text = KeyComponents.key(ofCanonicalJSON: canonicalJSON)
    }
}

extension StageExecution {
    /// The fields of the stage's cache key (see `KeyComponents`).
    func keyComponents(kind: any StageKind) throws(ExpressionError) -> KeyComponents {
        let roots = ExpressionRoot(pipeline: context.pipeline, head: context.head, runID: runID, secrets: context.secrets.values)
        let keyContext = roots.context(for: stage, mode: .key, outputPaths: [:], upstream: upstream)
        let run = try stage.run?.renderCommand(keyContext, matrixGroups: context.pipeline.matrixGroupNames)
        var with: [String: Value] = [:]
        for (name, value) in stage.with { with[name] = try value.render(keyContext) }
        var env = context.pipeline.env
        for (name, template) in stage.env { env[name] = try template.render(keyContext) }
        var references: [[String]] = stage.run?.references ?? []
        references += stage.with.values.flatMap(\.references)
        references += stage.env.values.flatMap(\.references)
        var params: [String: String] = [:]
        for path in references where path.count >= 2 && path[0] == "params" {
            if let value = context.pipeline.params[path[1]] { params[path[1]] = value.canonicalJSON() }
        }
        var upstreamDigests: [String: String] = [:]
        for (name, outcome) in upstream {
            for (output, record) in outcome.outputs { upstreamDigests["\(name).\(output)"] = record.digest }
        }
        return KeyComponents(
            kind: stage.kind, kindVersion: kind.implementationVersion, run: run,
            with: with.isEmpty ? nil : Value.object(with).canonicalJSON(),
            env: env, params: params, secrets: stage.secrets.sorted(),
            inputs: context.inputs.keys[stage.name] ?? [:], upstream: upstreamDigests,
            outputs: Dictionary(uniqueKeysWithValues: stage.outputs.map { ($0.name, $0.path) }),
            metrics: stage.metrics)
    }

    /// What the kind gets: resolved `run:` and `with:`, the environment and secrets.
    func stageContext(kind: any StageKind, log: LogSink) throws(ExpressionError) -> StageContext {
        let folder = stageDirectory
        let outputPaths = Dictionary(uniqueKeysWithValues: stage.outputs.map { ($0.name, folder + "/" + $0.path) })
        let secrets = context.secrets.scoped(to: stage.secrets)  // a stage gets only the secrets it lists
        let roots = ExpressionRoot(pipeline: context.pipeline, head: context.head, runID: runID, secrets: secrets)
        let execContext = roots.context(for: stage, mode: .execution, outputPaths: outputPaths, upstream: upstream)
        let command = try stage.run?.renderCommand(execContext, matrixGroups: context.pipeline.matrixGroupNames)
        var with: [String: Value] = [:]
        for (name, value) in stage.with { with[name] = try value.render(execContext) }
        var environment: [String: String] = [:]
        for (name, value) in context.pipeline.env { environment[name] = value }
        for (name, template) in stage.env { environment[name] = try template.render(execContext) }
        for (name, value) in secrets { environment[name] = value }
        environment["MLPIPE_RUN_ID"] = String(runID)
        environment["MLPIPE_STAGE"] = stage.name
        environment["MLPIPE_OUTPUT_DIR"] = folder
        environment["MLPIPE_PIPELINE"] = context.pipeline.name
        var upstreamPaths: [String: String] = [:]
        for (name, outcome) in upstream {
            for (output, record) in outcome.outputs { upstreamPaths["\(name).\(output)"] = record.path }
        }
        var stageContext = StageContext(runID: runID, pipelineName: context.pipeline.name, stageName: stage.name,
                            repositoryRoot: context.repositoryRoot, outputDirectory: folder, outputs: outputPaths,
                            upstreamOutputs: upstreamPaths, command: command, with: with, environment: environment,
                            inheritedEnvironment: context.inheritedEnvironment,
                            secrets: secrets, log: log, timeout: stage.timeout,
                            executor: context.executor, workspace: context.workspace.root)
        stageContext.commit = context.head.commit
        stageContext.branch = context.head.branch
        stageContext.commitTime = context.head.commitTime
        stageContext.runStore = context.runStore
        return stageContext
    }
}
