import Foundation
import ModelRegistry
import PipelineSpec

/// The JSON shapes of `models … --json` (camelCase keys, as the other `--json` outputs).
enum ModelsJSON {
    /// A version, as `models show --json` prints it.
    static func version(_ version: ModelVersion) -> [String: Value] {
        [
            "name": .string(version.name),
            "version": .int(version.version),
            "uri": .string(version.uri),
            "aliases": .array(version.aliases.map(Value.string)),
            "packageDigest": JSONOutput.string(version.packageDigest.isEmpty ? nil : version.packageDigest),
            "imageDigest": JSONOutput.string(version.imageDigest),
            "image": JSONOutput.string(version.image),
            "source": JSONOutput.string(version.source),
            "runId": JSONOutput.int(version.provenance.runID),
            "commit": JSONOutput.string(version.provenance.commit),
            "pipeline": JSONOutput.string(version.pipeline),
            "stage": JSONOutput.string(version.stage),
            "user": .string(version.provenance.user),
            "metrics": .object(version.metrics.mapValues(metric)),
            "inputs": .object(version.inputs.mapValues(Value.string)),
            "scanVerdict": JSONOutput.string(version.scanVerdict),
            "scanReportDigest": JSONOutput.string(version.scanReportDigest),
            "createdAt": JSONOutput.date(version.createdAt),
        ]
    }

    /// A model, as `models list --json` prints it.
    static func summary(_ model: ModelSummary) -> Value {
        .object([
            "name": .string(model.name),
            "latestVersion": model.latestVersion.map(Value.int) ?? .null,
            "versionCount": .int(model.versionCount),
            "aliases": .object(model.aliases.mapValues(Value.int)),
            "updatedAt": JSONOutput.date(model.updatedAt),
        ])
    }

    /// An alias move, as `models history --json` prints it.
    static func move(_ move: AliasMove) -> Value {
        .object([
            "version": .int(move.version),
            "movedAt": JSONOutput.date(move.movedAt),
            "runId": JSONOutput.int(move.provenance.runID),
            "commit": JSONOutput.string(move.provenance.commit),
            "user": .string(move.provenance.user),
        ])
    }

    /// A metric: an integer when it is one (`150`, not `150.0`).
    static func metric(_ value: Double) -> Value {
        value == value.rounded() && abs(value) < 1e15 ? .int(Int(value)) : .double(value)
    }

    /// A metric as the console shows it.
    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}
