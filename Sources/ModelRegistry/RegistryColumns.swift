import Foundation

/// How the registry's tables hold what is not a plain column, in SQLite and in
/// PostgreSQL alike, so that either registry reads what the other wrote.
public enum RegistryColumns {
    /// JSON with sorted keys, as the columns hold it.
    public static func json<T: Encodable>(_ value: T) throws(RegistryError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            throw RegistryError(.invalidName, "cannot encode a registration: \(error)",
                                remedy: "metrics must be finite numbers")
        }
    }

    /// `model_version.lineage_json`: what the lineage needs beyond the version's columns.
    public struct Lineage: Codable, Sendable {
        public var inputs: [String: String]
        public var scanVerdict: String?
        public var scanReportDigest: String?

        /// The lineage of `registration`.
        public init(_ registration: Registration) {
            inputs = registration.inputs
            scanVerdict = registration.scanVerdict
            scanReportDigest = registration.scanReportDigest
        }
    }
}
