import Foundation

/// What a smoke test of a deployment concluded, as its row keeps it (`smoke_json`) and
/// `models lineage` shows it.
public struct SmokeVerdict: Sendable, Hashable, Codable {
    /// Whether every threshold and expectation held.
    public var passed: Bool
    /// The run and stage of the smoke test.
    public var runID: Int64?
    public var stage: String?
    /// The report file, as the run wrote it.
    public var report: String?
    /// One line: the percentiles and error rate, or what failed.
    public var summary: String
    /// When it finished.
    public var at: Date

    /// Creates an outcome.
    public init(passed: Bool, runID: Int64?, stage: String?, report: String?, summary: String, at: Date) {
        self.passed = passed
        self.runID = runID
        self.stage = stage
        self.report = report
        self.summary = summary
        self.at = at
    }
}
