/// When a smoke test sends its requests: a fixed rate, for a duration or a count, with at
/// most `concurrency` requests (and connections) open at once.
///
/// Request *i* is due at `start + i / rate` whatever happened to the ones before it, and
/// its latency is timed from that moment (as wrk2 does), so a stall shows in the
/// percentiles instead of pausing the clock (no coordinated omission). The requests of the
/// file are sent in turn, round and round. A request still unsent `timeout` after it was
/// due is counted as an error and not sent: the service could not keep up.
public struct SmokeSchedule: Sendable, Hashable {
    /// How long the test goes on.
    public enum Length: Sendable, Hashable {
        /// Requests due within this time: `rate × duration` of them.
        case duration(Duration)
        /// Exactly this many requests.
        case count(Int)
    }

    /// Requests per second.
    public let rate: Double
    /// A duration or a count.
    public let length: Length
    /// Requests in flight at most, and the size of the connection pool.
    public let concurrency: Int
    /// How long a request may take from its due time to its answer before it is an error.
    public let timeout: Duration

    /// A schedule for `duration` at `rate` requests per second. Throws
    /// ``SmokeError/invalidSchedule(_:)`` for a rate, duration, concurrency or timeout
    /// that is not positive, or a run of more than 10,000,000 requests.
    public init(rate: Double, duration: Duration, concurrency: Int = 8, timeout: Duration = .seconds(10)) throws {
        try self.init(rate: rate, length: .duration(duration), concurrency: concurrency, timeout: timeout)
    }

    /// A schedule of `count` requests at `rate` per second; see ``init(rate:duration:concurrency:timeout:)``.
    public init(rate: Double, count: Int, concurrency: Int = 8, timeout: Duration = .seconds(10)) throws {
        try self.init(rate: rate, length: .count(count), concurrency: concurrency, timeout: timeout)
    }

    private init(rate: Double, length: Length, concurrency: Int, timeout: Duration) throws {
        guard rate.isFinite, rate > 0 else {
            throw SmokeError.invalidSchedule("rate \(rate) is not a positive number of requests per second, e.g. 50")
        }
        guard concurrency >= 1, concurrency <= 10_000 else {
            throw SmokeError.invalidSchedule("concurrency \(concurrency) is not from 1 to 10000")
        }
        guard timeout > .zero else {
            throw SmokeError.invalidSchedule("timeout \(timeout) is not positive, e.g. 10s")
        }
        self.rate = rate
        self.length = length
        self.concurrency = concurrency
        self.timeout = timeout
        switch length {
        case .duration(let duration):
            guard duration > .zero else {
                throw SmokeError.invalidSchedule("duration \(duration) is not positive, e.g. 10s")
            }
        case .count(let count):
            guard count >= 1 else { throw SmokeError.invalidSchedule("count \(count) is not 1 or more") }
        }
        guard Double(scheduledCount) <= 10_000_000 else {
            throw SmokeError.invalidSchedule("\(scheduledCount) requests is more than 10,000,000; "
                                             + "lower the rate or the duration")
        }
    }

    /// How many requests are due in the whole run (at least one).
    public var scheduledCount: Int {
        switch length {
        case .count(let count): return count
        case .duration(let duration):
            let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
            return max(1, Int((seconds * rate).rounded(.down)))
        }
    }

    /// The time between two due times, in nanoseconds.
    var intervalNanoseconds: Double { 1e9 / rate }
}
