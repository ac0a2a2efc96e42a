import Foundation

/// What a stage produced for one cache key: a row of the `cache_entry` table.
///
/// A later stage whose key is the same reuses these outputs instead of running
/// (the stage is then recorded `cached`, with ``runID`` as its `cachedFrom`).
/// ``outputsJSON`` is the JSON array of ``OutputRecord`` that
/// ``encodeOutputs(_:)`` writes; ``RunStore/referencedDigests()`` reads the
/// `digest` of each element, so that `mlpipe cache gc` keeps those objects.
public struct CacheEntry: Sendable, Codable, Hashable {
    /// The stage's cache key, `sha256:…`.
    public var key: String
    /// The pipeline the stage belonged to, for `mlpipe cache ls`.
    public var pipeline: String
    /// The stage's name.
    public var stage: String
    /// The run that produced the outputs.
    public var runID: Int64
    /// The outputs, as a JSON array of ``OutputRecord`` (see ``encodeOutputs(_:)``).
    public var outputsJSON: String
    /// The stage's metrics as JSON, restored on a cache hit.
    public var metricsJSON: String?
    /// The typed results the stage's kind returned, as JSON, restored on a cache hit.
    public var resultsJSON: String?
    /// When the entry was first saved.
    public var createdAt: Date
    /// When a run last reused it (or `createdAt`).
    public var lastUsedAt: Date

    /// A cache entry; `lastUsedAt` defaults to `createdAt`.
    public init(
        key: String,
        pipeline: String,
        stage: String,
        runID: Int64,
        outputsJSON: String,
        metricsJSON: String? = nil,
        resultsJSON: String? = nil,
        createdAt: Date,
        lastUsedAt: Date? = nil
    ) {
        self.key = key
        self.pipeline = pipeline
        self.stage = stage
        self.runID = runID
        self.outputsJSON = outputsJSON
        self.metricsJSON = metricsJSON
        self.resultsJSON = resultsJSON
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt ?? createdAt
    }

    /// The JSON for ``outputsJSON``: the outputs as an array, keys sorted, so the
    /// same outputs always give the same text.
    public static func encodeOutputs(_ outputs: [OutputRecord]) throws(RunStoreError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return String(decoding: try encoder.encode(outputs), as: UTF8.self)
        } catch {
            throw RunStoreError(
                code: .invalidRecord, operation: "encode the outputs of a cache entry", path: nil,
                reason: "JSON encoding failed", remedy: "this is a bug in mlpipe; please report it", cause: error)
        }
    }

    /// The outputs that ``outputsJSON`` holds.
    public func outputs() throws(RunStoreError) -> [OutputRecord] {
        do {
            return try JSONDecoder().decode([OutputRecord].self, from: Data(outputsJSON.utf8))
        } catch {
            throw RunStoreError(
                code: .invalidRecord, operation: "read the outputs of cache entry \(key)", path: nil,
                reason: "outputsJSON is not a JSON array of outputs",
                remedy: "delete the entry with `mlpipe cache gc` or save it again")
        }
    }
}
