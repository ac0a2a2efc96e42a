import Foundation

/// The bodies of MLflow's REST API 2.0 that the registry sends and reads, with MLflow's
/// own (snake_case) field names.
enum MLflowMessages {
    /// A tag of a model version.
    struct Tag: Codable, Sendable {
        var key: String
        var value: String
    }

    /// A model version as MLflow returns it. `aliases` is only filled by `get` calls, not
    /// by searches.
    struct ModelVersion: Decodable, Sendable {
        var name: String
        var version: String
        var creation_timestamp: Int64?
        var source: String?
        var run_id: String?
        var status: String?
        var status_message: String?
        var tags: [Tag]?
        var aliases: [String]?

        var number: Int { Int(version) ?? 0 }
        func tag(_ key: String) -> String? { tags?.first { $0.key == key }?.value }
    }

    /// An alias of a registered model.
    struct Alias: Decodable, Sendable {
        var alias: String
        var version: String
    }

    /// A registered model.
    struct RegisteredModel: Decodable, Sendable {
        var name: String
        var creation_timestamp: Int64?
        var last_updated_timestamp: Int64?
        var aliases: [Alias]?
        var latest_versions: [ModelVersion]?
    }

    struct ModelVersionResponse: Decodable { var model_version: ModelVersion }
    struct RegisteredModelResponse: Decodable { var registered_model: RegisteredModel }
    struct VersionSearch: Decodable {
        var model_versions: [ModelVersion]?
        var next_page_token: String?
    }
    struct ModelSearch: Decodable {
        var registered_models: [RegisteredModel]?
        var next_page_token: String?
    }
    struct Empty: Decodable {}

    struct CreateModel: Encodable { var name: String }
    struct CreateVersion: Encodable {
        var name: String
        var source: String
        var run_id: String?
        var run_link: String?
        var tags: [Tag]
        var description: String
    }
    struct SetAlias: Encodable {
        var name: String
        var alias: String
        var version: String
    }
    struct DeleteVersion: Encodable {
        var name: String
        var version: String
    }
}

/// The tags mlpipe puts on an MLflow model version: everything `ModelVersion` holds that
/// MLflow has no field for.
enum MLflowTags {
    static let packageDigest = "mlpipe.package_digest"
    static let imageDigest = "mlpipe.image_digest"
    static let image = "mlpipe.image"
    static let commit = "mlpipe.commit"
    static let pipeline = "mlpipe.pipeline"
    static let stage = "mlpipe.stage"
    static let runID = "mlpipe.run_id"
    static let user = "mlpipe.user"
    static let metrics = "mlpipe.metrics"
    static let inputs = "mlpipe.inputs"
    static let scanVerdict = "mlpipe.scan_verdict"
    static let scanReportDigest = "mlpipe.scan_report_digest"

    /// The tags of a registration (absent values are left out).
    static func tags(of registration: Registration) throws(RegistryError) -> [MLflowMessages.Tag] {
        let p = registration.provenance
        let pairs: [(String, String?)] = [
            (packageDigest, registration.packageDigest), (imageDigest, registration.imageDigest),
            (image, registration.image), (commit, p.commit), (pipeline, registration.pipeline),
            (stage, registration.stage), (runID, p.runID.map(String.init)), (user, p.user),
            (metrics, try RegistryColumns.json(registration.metrics)),
            (inputs, registration.inputs.isEmpty ? nil : try RegistryColumns.json(registration.inputs)),
            (scanVerdict, registration.scanVerdict), (scanReportDigest, registration.scanReportDigest),
        ]
        return pairs.compactMap { key, value in value.map { MLflowMessages.Tag(key: key, value: $0) } }
    }

    /// A version as mlpipe shows it, from MLflow's record and mlpipe's tags. A version
    /// registered without mlpipe has an empty package digest.
    static func version(_ record: MLflowMessages.ModelVersion, aliases: [String]? = nil) -> ModelVersion {
        let decoder = JSONDecoder()
        let metrics = record.tag(metrics).flatMap { try? decoder.decode([String: Double].self, from: Data($0.utf8)) }
        let inputs = record.tag(inputs).flatMap { try? decoder.decode([String: String].self, from: Data($0.utf8)) }
        return ModelVersion(
            name: record.name, version: record.number, packageDigest: record.tag(packageDigest) ?? "",
            imageDigest: record.tag(imageDigest), image: record.tag(image), source: record.source,
            metrics: metrics ?? [:], pipeline: record.tag(pipeline), stage: record.tag(stage), inputs: inputs ?? [:],
            scanVerdict: record.tag(scanVerdict), scanReportDigest: record.tag(scanReportDigest),
            provenance: Provenance(runID: record.tag(runID).flatMap { Int64($0) }, commit: record.tag(commit),
                                   user: record.tag(user) ?? ""),
            createdAt: Date(timeIntervalSince1970: Double(record.creation_timestamp ?? 0) / 1000),
            aliases: (aliases ?? record.aliases ?? []).sorted())
    }
}
