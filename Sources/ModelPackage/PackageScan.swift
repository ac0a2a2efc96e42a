import Canonical
import ModelFormats

/// What the scan of a packaged model said: the `scan` of `mlpipe-model.json`.
///
/// A package is only written when the verdict is `safe`, so a reader finds `safe` here;
/// the serving app still refuses to unpickle a model whose package says otherwise. The
/// report digest names the evidence: the SHA-256 of the validate stage's report file as
/// it was read, or of the canonical JSON of the report the builder made when it scanned
/// the model itself. `allow` is the allow-list that scan used beyond the default policy.
public struct PackageScan: Sendable, Codable, Hashable {
    /// The scan's verdict (`safe` in every package mlpipe writes).
    public var verdict: Verdict
    /// The SHA-256 of the scan report.
    public var reportDigest: Digest
    /// The globals the scan allowed beyond the default policy, as given.
    public var allow: [String]

    /// Creates a scan record.
    public init(verdict: Verdict, reportDigest: Digest, allow: [String]) {
        self.verdict = verdict
        self.reportDigest = reportDigest
        self.allow = allow
    }
}
