/// The limits a smoke test's figures must stay within: latency percentiles and the error
/// rate. Each is optional; a test without thresholds passes on its expectations alone.
///
/// A latency limit is met when the percentile is at most the limit; the error rate (see
/// ``SmokeReport/errorRate``) when it is at most `maxErrorRate`.
public struct SmokeThresholds: Sendable, Hashable {
    /// The median latency at most this.
    public let p50: Duration?
    /// The 95th percentile at most this.
    public let p95: Duration?
    /// The 99th percentile at most this.
    public let p99: Duration?
    /// The share of requests that failed (0 to 1) at most this; e.g. 0.01 for 1 %.
    public let maxErrorRate: Double?

    /// Thresholds; throws ``SmokeError/invalidThresholds(_:)`` for a latency that is not
    /// positive or an error rate outside 0...1.
    public init(p50: Duration? = nil, p95: Duration? = nil, p99: Duration? = nil, maxErrorRate: Double? = nil) throws {
        for (name, limit) in [("p50", p50), ("p95", p95), ("p99", p99)] {
            if let limit, limit <= .zero {
                throw SmokeError.invalidThresholds("\(name) \(limit) is not a positive latency, e.g. 200ms")
            }
        }
        if let maxErrorRate, !(0...1).contains(maxErrorRate) {
            throw SmokeError.invalidThresholds("error rate \(maxErrorRate) is not a share from 0 to 1, e.g. 0.01 for 1 %")
        }
        self.p50 = p50
        self.p95 = p95
        self.p99 = p99
        self.maxErrorRate = maxErrorRate
    }

    /// No limits.
    public static let none = SmokeThresholds(unchecked: ())

    private init(unchecked: Void) {
        p50 = nil
        p95 = nil
        p99 = nil
        maxErrorRate = nil
    }
}

extension Duration {
    /// The duration in milliseconds, as reports and thresholds print it.
    var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}
