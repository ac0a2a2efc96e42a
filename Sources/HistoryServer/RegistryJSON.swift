import Foundation
import ModelRegistry
import PipelineSpec

/// The JSON shapes of the model registry (camelCase keys, as ``HistoryJSON``'s): one
/// definition for `models … --json` and for the server's `/api/v1/models…` answers.
public enum RegistryJSON {
    /// A version, as `models show --json` prints it.
    public static func version(_ version: ModelVersion) -> [String: Value] {
        [
            "name": .string(version.name),
            "version": .int(version.version),
            "uri": .string(version.uri),
            "aliases": .array(version.aliases.map(Value.string)),
            "packageDigest": HistoryJSON.string(version.packageDigest.isEmpty ? nil : version.packageDigest),
            "imageDigest": HistoryJSON.string(version.imageDigest),
            "image": HistoryJSON.string(version.image),
            "source": HistoryJSON.string(version.source),
            "runId": HistoryJSON.int(version.provenance.runID),
            "commit": HistoryJSON.string(version.provenance.commit),
            "pipeline": HistoryJSON.string(version.pipeline),
            "stage": HistoryJSON.string(version.stage),
            "user": .string(version.provenance.user),
            "metrics": .object(version.metrics.mapValues(metric)),
            "inputs": .object(version.inputs.mapValues(Value.string)),
            "scanVerdict": HistoryJSON.string(version.scanVerdict),
            "scanReportDigest": HistoryJSON.string(version.scanReportDigest),
            "createdAt": HistoryJSON.date(version.createdAt),
        ]
    }

    /// A model, as `models list --json` prints it.
    public static func summary(_ model: ModelSummary) -> Value {
        .object([
            "name": .string(model.name),
            "latestVersion": model.latestVersion.map(Value.int) ?? .null,
            "versionCount": .int(model.versionCount),
            "aliases": .object(model.aliases.mapValues(Value.int)),
            "updatedAt": HistoryJSON.date(model.updatedAt),
        ])
    }

    /// An alias move, as `models history --json` prints it.
    public static func move(_ move: AliasMove) -> Value {
        .object([
            "version": .int(move.version),
            "movedAt": HistoryJSON.date(move.movedAt),
            "runId": HistoryJSON.int(move.provenance.runID),
            "commit": HistoryJSON.string(move.provenance.commit),
            "user": .string(move.provenance.user),
        ])
    }

    /// A metric: an integer when it is one (`150`, not `150.0`).
    public static func metric(_ value: Double) -> Value {
        value == value.rounded() && abs(value) < 1e15 ? .int(Int(value)) : .double(value)
    }

    /// A metric as the console shows it.
    public static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}
