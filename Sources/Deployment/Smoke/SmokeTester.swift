import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Sends a smoke test's requests to a deployed model on a fixed schedule, checks each
/// answer against its expectations, and reports latency percentiles, errors and failures.
///
/// Open loop, as wrk2: request *i* is due at `start + i / rate`; it waits for a free slot
/// (at most `concurrency` in flight, one connection each) and its latency runs from its due
/// time, not from when it could go out. So a one-second stall at 50 requests per second
/// puts about 50 requests into the tail of the histogram, where a closed loop (send, wait,
/// send) would have measured one slow request and hidden the rest (coordinated omission).
///
/// The token, when given, goes out as `Authorization: Bearer` and nowhere else: not in the
/// report, not in an error, not in the description of the tester (an answer that repeats
/// it is shown with the token replaced).
public struct SmokeTester: Sendable, CustomStringConvertible, CustomReflectable {
    /// Where the model answers.
    public let endpoint: ServiceEndpoint
    private let token: String?
    /// Bodies larger than this are an error, not read further.
    static let maximumBody = 16 << 20

    /// A tester of `endpoint`, with a bearer token for a service that needs one.
    public init(endpoint: ServiceEndpoint, token: String?) {
        self.endpoint = endpoint
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
    }

    public var description: String { "SmokeTester(\(endpoint), token: \(token == nil ? "none" : "set"))" }
    public var customMirror: Mirror { Mirror(self, children: ["endpoint": endpoint], displayStyle: .struct) }

    /// Runs the test: sends `requests` in turn on `schedule`, and returns the report
    /// checked against `thresholds`. A failed test is a report with `passed` false; this
    /// throws only when the test cannot run (no requests) or is cancelled.
    /// The schedule and its requests run on a ``SmokeExecutor``, not the shared pool.
    public func run(requests: [SmokeRequest], schedule: SmokeSchedule,
                    thresholds: SmokeThresholds) async throws -> SmokeReport {
        guard !requests.isEmpty else { throw SmokeError.noRequests(path: "the list given to SmokeTester.run") }
        let timeout = Int64(schedule.timeout.milliseconds * 1e6)
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60),
                                             concurrentHTTP1ConnectionsPerHostSoftLimit: schedule.concurrency)
        // A refused connection is an error of that request at once, not a retry loop until
        // the timeout: it says the service is down, which is what a smoke test must show.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        configuration.timeout = .init(connect: .nanoseconds(timeout), read: .nanoseconds(timeout))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let report: SmokeReport
        do {
            report = try await withTaskExecutorPreference(SmokeExecutor.shared) {
                try await drive(client, requests: requests, schedule: schedule, thresholds: thresholds)
            }
        } catch {
            // The run's own error is the one to report; a failed shutdown adds nothing to it.
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
        return report
    }

    /// The dispatch loop: one child task per request, at most `concurrency` at once.
    private func drive(_ client: HTTPClient, requests: [SmokeRequest], schedule: SmokeSchedule,
                       thresholds: SmokeThresholds) async throws -> SmokeReport {
        let prepared = requests.map(prepare)
        let count = schedule.scheduledCount
        let interval = schedule.intervalNanoseconds
        let timeout = Int64(schedule.timeout.milliseconds * 1e6)
        let clock = ContinuousClock()
        var recorder = SmokeRecorder(requests: requests)
        let start = clock.now
        let cancelled = await withTaskGroup(of: SmokeOutcome.self, returning: Bool.self) { group in
            var inFlight = 0
            for index in 0..<count {
                let dueOffset = Int64((Double(index) * interval).rounded())
                let due = start.advanced(by: .nanoseconds(dueOffset))
                if clock.now < due {
                    do { try await clock.sleep(until: due) } catch { break }
                }
                while inFlight >= schedule.concurrency, let outcome = await group.next() {
                    recorder.add(outcome)
                    inFlight -= 1
                }
                if Task.isCancelled { break }
                let which = index % prepared.count
                let late = Self.nanoseconds(clock.now - due)
                if late >= timeout {
                    // Its slot did not free up in time: it would be a timeout however fast
                    // the answer, so it is counted as one and the schedule goes on.
                    recorder.add(SmokeOutcome(
                        request: which, sent: false, status: nil, latencyNanoseconds: late, finishedAt: dueOffset + late,
                        error: "not sent: no connection was free within \(schedule.timeout) of its due time "
                            + "(the service is slower than the rate; raise concurrency or lower the rate)",
                        failures: []))
                    continue
                }
                let request = prepared[which]
                group.addTask {
                    await self.send(request, index: which, client: client, dueOffset: dueOffset, due: due,
                                    timeout: timeout, start: start, clock: clock)
                }
                inFlight += 1
            }
            let cancelled = Task.isCancelled
            if cancelled { group.cancelAll() }
            for await outcome in group { recorder.add(outcome) }
            return cancelled
        }
        if cancelled { throw CancellationError() }
        return recorder.report(endpoint: endpoint, schedule: schedule, thresholds: thresholds)
    }

    /// A request ready to send, built once per line.
    struct Prepared: Sendable {
        var http: HTTPClientRequest
        var request: SmokeRequest
    }

    private func prepare(_ request: SmokeRequest) -> Prepared {
        var http = HTTPClientRequest(url: endpoint.url(request.path))
        http.method = HTTPMethod(rawValue: request.method)
        http.headers.add(name: "User-Agent", value: "mlpipe-smoke")
        for (name, value) in request.headers.sorted(by: { $0.key < $1.key }) {
            http.headers.add(name: name, value: value)
        }
        if let body = request.body {
            if !request.headers.keys.contains(where: { $0.lowercased() == "content-type" }) {
                http.headers.add(name: "Content-Type", value: "application/json")
            }
            http.body = .bytes(ByteBuffer(bytes: body))
        }
        if let token { http.headers.add(name: "Authorization", value: "Bearer \(token)") }
        return Prepared(http: http, request: request)
    }

    /// Sends one request and judges its answer.
    private func send(_ prepared: Prepared, index: Int, client: HTTPClient, dueOffset: Int64,
                      due: ContinuousClock.Instant, timeout: Int64, start: ContinuousClock.Instant,
                      clock: ContinuousClock) async -> SmokeOutcome {
        let remaining = max(1_000_000, timeout - Self.nanoseconds(clock.now - due))
        var outcome = SmokeOutcome(request: index, sent: true, status: nil, latencyNanoseconds: nil,
                                   finishedAt: 0, error: nil, failures: [])
        do {
            let response = try await client.execute(prepared.http, deadline: .now() + .nanoseconds(remaining))
            let body = try await response.body.collect(upTo: Self.maximumBody)
            let finished = clock.now
            outcome.latencyNanoseconds = Self.nanoseconds(finished - due)
            outcome.finishedAt = Self.nanoseconds(finished - start)
            let status = Int(response.status.code)
            outcome.status = status
            judge(status: status, body: body, request: prepared.request, into: &outcome)
        } catch {
            let finished = clock.now
            outcome.finishedAt = Self.nanoseconds(finished - start)
            let (message, timedOut) = describe(error, timeout: timeout)
            outcome.error = message
            if timedOut { outcome.latencyNanoseconds = Self.nanoseconds(finished - due) }
        }
        return outcome
    }

    /// Checks an answer's status, then its fields; a 5xx not asked for is an error.
    private func judge(status: Int, body: ByteBuffer, request: SmokeRequest, into outcome: inout SmokeOutcome) {
        guard status == request.expectedStatus else {
            let text = snippet(body)
            if status >= 500, request.expectedStatus < 500 {
                outcome.error = "status \(status)\(text.isEmpty ? "" : ": " + text)"
            } else {
                outcome.failures.append(SmokeOutcome.Failure(
                    field: nil, expected: "\(request.expectedStatus)", actual: .number(Double(status)),
                    message: "status \(status), expected \(request.expectedStatus)\(text.isEmpty ? "" : ": " + text)"))
            }
            return
        }
        guard !request.expectations.isEmpty else { return }
        let answer: SmokeValue
        do throws(SmokeJSONParser.SyntaxError) {
            answer = try SmokeJSONParser.parse(Array(body.readableBytesView)).value
        } catch {
            for expectation in request.expectations {
                outcome.failures.append(SmokeOutcome.Failure(
                    field: expectation.field, expected: expectation.expectedText, actual: nil,
                    message: "the answer is not JSON (\(error.message) at byte \(error.offset)), so "
                        + "\(expectation.field) cannot be checked: \(snippet(body))"))
            }
            return
        }
        for expectation in request.expectations {
            if let mismatch = expectation.mismatch(in: answer) {
                outcome.failures.append(SmokeOutcome.Failure(field: expectation.field, expected: expectation.expectedText,
                                                             actual: mismatch.actual, message: mismatch.message))
            }
        }
    }

    /// What went wrong with a request that got no answer, and whether it was a timeout.
    private func describe(_ error: any Error, timeout: Int64) -> (String, Bool) {
        let seconds = SmokeValue.format(Double(timeout) / 1e9)
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout:
                return ("no answer within \(seconds) s of its due time", true)
            case .connectTimeout:
                return ("could not connect to \(endpoint) within \(seconds) s", true)
            case .remoteConnectionClosed:
                return ("the service closed the connection before answering", false)
            default:
                return ("HTTP client error: \(error)", false)
            }
        }
        if error is NIOTooManyBytesError {
            return ("the answer is larger than \(Self.maximumBody >> 20) MiB", false)
        }
        if let error = error as? IOError, error.errnoCode == ECONNREFUSED {
            return ("connection refused by \(endpoint): is the service running?", false)
        }
        let text = "\(error)"
        if text.contains("connection refused") || text.contains("Connection refused") {
            return ("connection refused by \(endpoint): is the service running?", false)
        }
        return (mask(text), false)
    }

    /// The start of an answer's body for a message, token masked, on one line.
    private func snippet(_ body: ByteBuffer) -> String {
        let bytes = body.readableBytesView.prefix(300)
        var text = String(decoding: bytes, as: UTF8.self)
            .map { $0.isNewline ? " " : String($0) }.joined()
        if body.readableBytes > 300 { text += "..." }
        return mask(text)
    }

    private func mask(_ text: String) -> String {
        guard let token, text.contains(token) else { return text }
        return text.replacingOccurrences(of: token, with: "<token>")
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }
}
