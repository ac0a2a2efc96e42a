/// What a smoke test found: how many requests went out and how fast, how many failed, the
/// latency percentiles, every expectation that was not met with the request line that
/// failed it, every threshold that was crossed, and whether the test passed.
///
/// It is `report.json` of a `smoke-test` stage. Latencies are in milliseconds, timed from
/// each request's due time (see ``SmokeSchedule``). An *error* is a request that got no
/// answer (refused, reset, timed out, not sent in time) or a 5xx it did not expect: errors
/// are what `maxErrorRate` allows. A *failed expectation* is an answer with the wrong
/// status or field (a 401, a wrong label): any one fails the test. The token is never in it.
public struct SmokeReport: Codable, Sendable, Hashable {
    /// The endpoint tested, `http://127.0.0.1:8081`.
    public var endpoint: String
    /// Requests due by the schedule.
    public var requestsScheduled: Int
    /// Requests that went out (the others were not sent within the timeout of their due time).
    public var requestsSent: Int
    /// Requests answered with an HTTP status, any status.
    public var responses: Int
    /// Requests that failed (see the type's comment).
    public var errors: Int
    /// `errors / requestsScheduled`.
    public var errorRate: Double
    /// The schedule's rate, requests per second.
    public var targetRate: Double
    /// Requests answered per second, from the first due time to the last answer.
    public var achievedRate: Double
    /// From the first due time to the last outcome, in seconds.
    public var seconds: Double
    /// Requests in flight at most.
    public var concurrency: Int
    /// Percentiles of the answered and timed-out requests.
    public var latencyMilliseconds: SmokeLatency
    /// Each expectation not met, once per request line and field, with how often.
    public var failedExpectations: [SmokeExpectationFailure]
    /// Each kind of error, once per request line and message, with how often.
    public var errorSamples: [SmokeErrorSample]
    /// Each threshold crossed.
    public var breaches: [SmokeBreach]
    /// No failed expectation and no breach.
    public var passed: Bool

    /// A few lines for a log: the figures, then each failure.
    public var summary: String {
        let l = latencyMilliseconds
        var lines = [
            "\(passed ? "passed" : "FAILED"): \(requestsSent) of \(requestsScheduled) requests sent to \(endpoint) "
                + "at \(Self.fixed(achievedRate, 1))/s (target \(Self.fixed(targetRate, 1))/s, concurrency \(concurrency)), "
                + "\(errors) errors (\(Self.fixed(errorRate * 100, 2)) %)",
            "latency ms: p50 \(Self.fixed(l.p50, 2)), p90 \(Self.fixed(l.p90, 2)), p95 \(Self.fixed(l.p95, 2)), "
                + "p99 \(Self.fixed(l.p99, 2)), max \(Self.fixed(l.max, 2))",
        ]
        lines += breaches.map { "breach: \($0.message)" }
        lines += failedExpectations.map { "\($0.request): \($0.message) (\($0.count) times)" }
        lines += errorSamples.map { "\($0.request): error: \($0.message) (\($0.count) times)" }
        return lines.joined(separator: "\n")
    }

    static func fixed(_ value: Double, _ digits: Int) -> String {
        let scale = Double([1, 10, 100, 1000][min(digits, 3)])
        let rounded = (value * scale).rounded() / scale
        var text = "\(rounded)"
        if text.hasSuffix(".0"), digits == 0 { text.removeLast(2) }
        return text
    }
}

/// Latency percentiles in milliseconds (HDR histogram, 3 significant digits).
public struct SmokeLatency: Codable, Sendable, Hashable {
    public var p50: Double
    public var p90: Double
    public var p95: Double
    public var p99: Double
    public var max: Double
    public var mean: Double

    /// Percentiles from their values.
    public init(p50: Double, p90: Double, p95: Double, p99: Double, max: Double, mean: Double) {
        self.p50 = p50
        self.p90 = p90
        self.p95 = p95
        self.p99 = p99
        self.max = max
        self.mean = mean
    }
}

/// One expectation a request's answer did not meet.
public struct SmokeExpectationFailure: Codable, Sendable, Hashable {
    /// `FILE:LINE` of the request.
    public var request: String
    /// The request's line in its file.
    public var line: Int
    /// `POST /v2/models/iris/infer`.
    public var method: String
    public var path: String
    /// The field (a dotted path), or nil for the status.
    public var field: String?
    /// The expected value (`200`, `[0]`, `[0.98,0.02] ± 0.01`).
    public var expected: String
    /// What was there instead, nil when the field was missing.
    public var actual: SmokeValue?
    /// What differs, in a sentence.
    public var message: String
    /// How many answers to this request failed this way.
    public var count: Int
}

/// One kind of error a request met.
public struct SmokeErrorSample: Codable, Sendable, Hashable {
    /// `FILE:LINE` of the request.
    public var request: String
    public var line: Int
    /// What happened: `connection refused`, `no answer within 10 s of its due time`, `status 503 ...`.
    public var message: String
    /// How many times.
    public var count: Int
}

/// A threshold that was crossed.
public struct SmokeBreach: Codable, Sendable, Hashable {
    /// `p50`, `p95`, `p99` or `errorRate`.
    public var metric: String
    /// The threshold (milliseconds for latency, a share for the error rate).
    public var limit: Double
    /// The measured value, in the same unit.
    public var actual: Double
    /// `p99 latency 1012.5 ms is above the 200 ms threshold`.
    public var message: String
}
