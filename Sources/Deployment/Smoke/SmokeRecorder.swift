import Histogram

/// What happened to one scheduled request, as the tester's child task returns it.
struct SmokeOutcome: Sendable {
    /// A mismatch between an answer and its request's expectations.
    struct Failure: Sendable {
        var field: String?
        var expected: String
        var actual: SmokeValue?
        var message: String
    }

    /// The index of the request in the tester's list.
    var request: Int
    /// Whether it went out (false: not sent within the timeout of its due time).
    var sent: Bool
    /// The HTTP status of the answer, nil for none.
    var status: Int?
    /// From the due time to the outcome; nil when the latency is not recorded (a request
    /// refused or reset before any answer: it says nothing of the service's speed).
    var latencyNanoseconds: Int64?
    /// When the outcome was known, in nanoseconds since the run's start.
    var finishedAt: Int64
    /// An error (see ``SmokeReport``), nil for none.
    var error: String?
    /// Expectations not met.
    var failures: [Failure]
}

/// Adds up outcomes into a ``SmokeReport``: the HDR histogram of latencies, the counters,
/// and each failure grouped by request line and field (a request sent a thousand times that
/// fails each time is one entry with a count, not a thousand).
///
/// Used by one task only (the tester's dispatch loop), so it is a plain struct.
struct SmokeRecorder {
    /// Latencies in microseconds, 1 µs to one hour, three significant digits.
    private var histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: Self.highest,
                                              numberOfSignificantValueDigits: .three)
    private static let highest: UInt64 = 3_600_000_000
    private let requests: [SmokeRequest]
    private var sent = 0
    private var responses = 0
    private var errors = 0
    private var lastFinish: Int64 = 0
    private var failures: [String: SmokeExpectationFailure] = [:]
    private var failureOrder: [String] = []
    private var samples: [String: SmokeErrorSample] = [:]
    private var sampleOrder: [String] = []
    /// Distinct failures and error messages kept at most; the counts stay exact.
    static let maximumDistinct = 200

    init(requests: [SmokeRequest]) {
        self.requests = requests
    }

    mutating func add(_ outcome: SmokeOutcome) {
        if outcome.sent { sent += 1 }
        if outcome.status != nil { responses += 1 }
        lastFinish = max(lastFinish, outcome.finishedAt)
        if let nanoseconds = outcome.latencyNanoseconds {
            let micros = UInt64(max(1, nanoseconds / 1000))
            _ = histogram.record(min(micros, Self.highest))
        }
        let request = requests[outcome.request]
        if let error = outcome.error {
            errors += 1
            let key = "\(outcome.request)\u{0}\(error)"
            if samples[key] != nil {
                samples[key]?.count += 1
            } else if samples.count < Self.maximumDistinct {
                samples[key] = SmokeErrorSample(request: request.location, line: request.line, message: error, count: 1)
                sampleOrder.append(key)
            }
        }
        for failure in outcome.failures {
            let key = "\(outcome.request)\u{0}\(failure.field ?? "")\u{0}\(failure.message)"
            if failures[key] != nil {
                failures[key]?.count += 1
            } else if failures.count < Self.maximumDistinct {
                failures[key] = SmokeExpectationFailure(
                    request: request.location, line: request.line, method: request.method, path: request.path,
                    field: failure.field, expected: failure.expected, actual: failure.actual,
                    message: failure.message, count: 1)
                failureOrder.append(key)
            }
        }
    }

    /// The report of the outcomes added so far.
    func report(endpoint: ServiceEndpoint, schedule: SmokeSchedule, thresholds: SmokeThresholds) -> SmokeReport {
        let scheduled = schedule.scheduledCount
        let seconds = Double(lastFinish) / 1e9
        let milliseconds = { (micros: UInt64) in Double(micros) / 1000 }
        let empty = histogram.totalCount == 0
        let latency = SmokeLatency(
            p50: empty ? 0 : milliseconds(histogram.valueAtPercentile(50)),
            p90: empty ? 0 : milliseconds(histogram.valueAtPercentile(90)),
            p95: empty ? 0 : milliseconds(histogram.valueAtPercentile(95)),
            p99: empty ? 0 : milliseconds(histogram.valueAtPercentile(99)),
            max: empty ? 0 : milliseconds(histogram.max),
            mean: empty ? 0 : histogram.mean / 1000)
        let errorRate = scheduled == 0 ? 0 : Double(errors) / Double(scheduled)
        let breaches = Self.breaches(latency: latency, errorRate: errorRate, responses: responses,
                                     thresholds: thresholds)
        let failed = failureOrder.compactMap { failures[$0] }
        return SmokeReport(
            endpoint: endpoint.description, requestsScheduled: scheduled, requestsSent: sent, responses: responses,
            errors: errors, errorRate: errorRate, targetRate: schedule.rate,
            achievedRate: seconds > 0 ? Double(responses) / seconds : 0, seconds: seconds,
            concurrency: schedule.concurrency, latencyMilliseconds: latency, failedExpectations: failed,
            errorSamples: sampleOrder.compactMap { samples[$0] }, breaches: breaches,
            passed: failed.isEmpty && breaches.isEmpty)
    }

    /// Each threshold crossed. Without `maxErrorRate` no error is allowed, so that a run in
    /// which nothing answered cannot pass for want of a limit.
    static func breaches(latency: SmokeLatency, errorRate: Double, responses: Int,
                         thresholds: SmokeThresholds) -> [SmokeBreach] {
        var breaches: [SmokeBreach] = []
        for (name, limit, actual) in [("p50", thresholds.p50, latency.p50), ("p95", thresholds.p95, latency.p95),
                                      ("p99", thresholds.p99, latency.p99)] {
            guard let limit, actual > limit.milliseconds else { continue }
            breaches.append(SmokeBreach(
                metric: name, limit: limit.milliseconds, actual: actual,
                message: "\(name) latency \(SmokeReport.fixed(actual, 2)) ms is above the "
                    + "\(SmokeValue.format(limit.milliseconds)) ms threshold"))
        }
        let allowed = thresholds.maxErrorRate ?? 0
        if errorRate > allowed {
            breaches.append(SmokeBreach(
                metric: "errorRate", limit: allowed, actual: errorRate,
                message: "error rate \(SmokeReport.fixed(errorRate * 100, 2)) % is above the "
                    + "\(SmokeValue.format(allowed * 100)) % threshold"
                    + (thresholds.maxErrorRate == nil ? " (no error rate was allowed)" : "")))
        }
        if responses == 0 {
            breaches.append(SmokeBreach(metric: "responses", limit: 1, actual: 0,
                                        message: "no request was answered"))
        }
        return breaches
    }
}
