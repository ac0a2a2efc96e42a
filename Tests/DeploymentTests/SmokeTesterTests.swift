import Foundation
import TestSupport
import Testing
@testable import Deployment

/// Two iris rows (setosa, virginica) as a V2 infer body, FP32, and what the model answers.
private let inferBody = #"{"inputs": [{"name": "X", "datatype": "FP32", "shape": [2, 4], "data": [5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3]}]}"#

@Suite("SmokeTester against the real serving app", .serialized,
       .enabled(if: smokeVenv != nil, "needs MLPIPE_VENV (the serving app's venv)"))
struct SmokeTesterServingTests {
    private func requests(_ lines: [String], in folder: SmokeFolder) throws -> [SmokeRequest] {
        try SmokeRequests.load(path: folder.write("requests.jsonl", lines.joined(separator: "\n") + "\n"), model: "iris")
    }

    @Test("correct expectations pass, with every request answered and the percentiles filled in",
          .timeLimit(.minutes(3)))
    func passes() async throws {
        let app = try await SmokeServingApp()
        defer { app.stop() }
        let requests = try requests([
            #"{"body": \#(inferBody), "expect": {"model_name": "iris", "outputs.label.data": [0, 2], "#
                + #""outputs.probabilities.data.0": {"value": 1, "tolerance": 0.1}}}"#,
            #"{"path": "/v2/health/ready", "expect": {"ready": true}}"#,
        ], in: app.folder)
        let tester = SmokeTester(endpoint: ServiceEndpoint(scheme: "http", host: "127.0.0.1", port: app.port), token: nil)
        let report = try await tester.run(requests: requests, schedule: SmokeSchedule(rate: 40, count: 40, concurrency: 4, timeout: .seconds(90)),
                                          thresholds: SmokeThresholds(p99: .seconds(60), maxErrorRate: 0))
        #expect(report.passed, "\(report.summary)")
        #expect(report.requestsSent == 40 && report.responses == 40 && report.errors == 0)
        #expect(report.failedExpectations.isEmpty && report.breaches.isEmpty)
        #expect(report.latencyMilliseconds.p50 > 0)
        #expect(report.latencyMilliseconds.p50 <= report.latencyMilliseconds.p99)
        #expect(report.latencyMilliseconds.p99 <= report.latencyMilliseconds.max)
        // 40 requests due over 975 ms: the rate is the schedule's, not as fast as possible.
        #expect(report.seconds >= 0.95)
    }

    @Test("a wrong expected value fails the test and names the request's line, field, expected and actual",
          .timeLimit(.minutes(3)))
    func wrongValue() async throws {
        let app = try await SmokeServingApp()
        defer { app.stop() }
        let requests = try requests([
            #"{"path": "/v2/health/live"}"#,
            #"{"body": \#(inferBody), "expect": {"outputs.label.data": [0, 1]}}"#,
        ], in: app.folder)
        let tester = SmokeTester(endpoint: ServiceEndpoint(scheme: "http", host: "127.0.0.1", port: app.port), token: nil)
        let report = try await tester.run(requests: requests, schedule: SmokeSchedule(rate: 50, count: 10, concurrency: 2, timeout: .seconds(90)),
                                          thresholds: .none)
        #expect(!report.passed)
        #expect(report.errors == 0 && report.breaches.isEmpty)
        let failure = try #require(report.failedExpectations.first)
        #expect(report.failedExpectations.count == 1)
        #expect(failure.request == app.folder.path + "/requests.jsonl:2" && failure.line == 2)
        #expect(failure.field == "outputs.label.data" && failure.expected == "[0,1]" && failure.actual == .array([.number(0), .number(2)]))
        #expect(failure.message == "outputs.label.data is [0,2], expected [0,1]")
        #expect(failure.count == 5 && failure.method == "POST" && failure.path == "/v2/models/iris/infer")
        #expect(report.summary.contains("requests.jsonl:2: outputs.label.data is [0,2], expected [0,1] (5 times)"))
    }

    @Test("without the token a service with auth answers 401, a failed expectation; with it the test passes and the token is nowhere in the report",
          .timeLimit(.minutes(3)))
    func token() async throws {
        let key = "smoke-test-secret-key-of-at-least-32-bytes"
        let app = try await SmokeServingApp(jwtKey: key)
        defer { app.stop() }
        let requests = try requests([#"{"body": \#(inferBody), "expect": {"outputs.label.data": [0, 2]}}"#], in: app.folder)
        let endpoint = ServiceEndpoint(scheme: "http", host: "127.0.0.1", port: app.port)
        let schedule = try SmokeSchedule(rate: 20, count: 4, concurrency: 2, timeout: .seconds(90))

        let refused = try await SmokeTester(endpoint: endpoint, token: nil).run(requests: requests, schedule: schedule, thresholds: .none)
        #expect(!refused.passed)
        let failure = try #require(refused.failedExpectations.first)
        #expect(failure.field == nil && failure.expected == "200" && failure.actual == .number(401) && failure.count == 4)
        #expect(failure.message.hasPrefix("status 401, expected 200: {\"error\":"), "\(failure.message)")
        #expect(failure.line == 1)

        let jwt = try await app.token(key: key)
        let tester = SmokeTester(endpoint: endpoint, token: jwt)
        let report = try await tester.run(requests: requests, schedule: schedule, thresholds: .none)
        #expect(report.passed, "\(report.summary)")
        let json = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
        #expect(!json.contains(jwt) && !report.summary.contains(jwt))
        #expect(!"\(tester)".contains(jwt) && !String(reflecting: tester).contains(jwt))
    }
}

@Suite("SmokeTester: open-loop timing, errors", .serialized)
struct SmokeTesterTimingTests {
    /// A listener that answers {"ok":true} at once, except that while it handles request
    /// number `stallAt` it stalls every request for `stall` seconds (one lock, as a
    /// process-wide pause would). Its port is written to `port.txt` once it listens.
    private static let stallServer = """
        import http.server, os, socketserver, sys, threading, time
        folder, stall_at, stall = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
        lock = threading.Lock()
        count = 0
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else headers and body wait for a delayed ACK: 40 ms each
            def do_GET(self):
                global count
                with lock:
                    count += 1
                    if count == stall_at:
                        time.sleep(stall)
                body = b'{"ok":true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def log_message(self, *args):
                pass
        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
        server = Server(("127.0.0.1", 0), Handler)
        with open(folder + "/port.tmp", "w") as f:
            f.write(str(server.server_address[1]))
        os.rename(folder + "/port.tmp", folder + "/port.txt")
        server.serve_forever()
        """

    /// One GET of / that expects {"ok": true}.
    private static let okRequests = [SmokeRequest(file: "ok.jsonl", line: 1, method: "GET", path: "/", body: nil,
                                                  expectations: [SmokeExpectation(field: "ok", expected: .bool(true))])]

    /// The listener of ``stallServer`` in `folder` (stalling at request `stallAt`, never
    /// for 0), once it listens, and a tester of it.
    private static func listener(in folder: SmokeFolder, stallAt: Int, stall: Double) async throws -> (SmokeProcess, SmokeTester) {
        let script = try folder.write("listener.py", stallServer)
        let server = try SmokeProcess(["python3", script, folder.path, "\(stallAt)", "\(stall)"], log: folder.path + "/listener.log")
        do {
            try await smokeWait("the listener's port", deadline: 30) { !folder.read("port.txt").isEmpty }
            let port = try #require(Int(folder.read("port.txt")))
            return (server, SmokeTester(endpoint: ServiceEndpoint(scheme: "http", host: "127.0.0.1", port: port), token: nil))
        } catch {
            server.stop()
            throw error
        }
    }

    @Test("a 1 s stall at 50 requests/s shows in p90 and p99: each request is timed from its due time, not from when it could go out",
          .timeLimit(.minutes(2)))
    func stallShows() async throws {
        let folder = try SmokeFolder()
        // Request 50 arrives about 1 s in; the run lasts 5 s, so the stall is a fifth of it.
        let (server, tester) = try await Self.listener(in: folder, stallAt: 50, stall: 1.0)
        defer { server.stop() }
        // One connection: a closed loop (send, wait, send) would see one slow request of
        // 250, and its p99 and p90 would be a few milliseconds.
        let report = try await tester.run(requests: Self.okRequests, schedule: SmokeSchedule(rate: 50, count: 250, concurrency: 1, timeout: .seconds(90)),
                                          thresholds: SmokeThresholds(p99: .milliseconds(500)))
        let latency = report.latencyMilliseconds
        // About 50 requests fall due during the stall, waiting from 1000 ms down to 0: the
        // top tenth of all requests waited at least half of it.
        #expect(latency.p99 >= 900, "\(report.summary)")
        #expect(latency.p90 >= 400, "\(report.summary)")
        #expect(latency.max >= 1000, "\(report.summary)")
        #expect(report.responses == 250 && report.failedExpectations.isEmpty, "\(report.summary)")
        #expect(!report.passed && report.breaches.map(\.metric) == ["p99"], "\(report.summary)")
    }

    @Test("a smoke test keeps its schedule while other work holds every thread of the shared pool",
          .timeLimit(.minutes(2)))
    func ownThreads() async throws {
        let folder = try SmokeFolder()
        let (server, tester) = try await Self.listener(in: folder, stallAt: 0, stall: 0)
        defer { server.stop() }
        // One blocking task more than the pool has threads, for 3 s: a schedule on the pool
        // would send nothing until they end, and report 3 s of latency it never saw.
        let blockers = (0...ProcessInfo.processInfo.activeProcessorCount).map { _ in
            Task.detached { _ = usleep(3_000_000) }
        }
        let report = try await tester.run(requests: Self.okRequests, schedule: SmokeSchedule(rate: 50, count: 50, concurrency: 2, timeout: .seconds(90)),
                                          thresholds: SmokeThresholds(p99: .milliseconds(1000)))
        for blocker in blockers { await blocker.value }
        #expect(report.passed && report.responses == 50, "\(report.summary)")
        #expect(report.latencyMilliseconds.max < 1000, "\(report.summary)")
    }

    @Test("nothing listening: every request is an error, the error rate breaches even without a limit, and the message says so",
          .timeLimit(.minutes(1)))
    func refused() async throws {
        let port = try smokeFreePort()
        let requests = [SmokeRequest(file: "r.jsonl", line: 3, method: "GET", path: "/v2/health/ready", body: nil)]
        let tester = SmokeTester(endpoint: ServiceEndpoint(scheme: "http", host: "127.0.0.1", port: port), token: nil)
        // The timeout runs from each request's due time: it is long enough that a busy test
        // process cannot turn a refusal into a timeout.
        let report = try await tester.run(requests: requests, schedule: SmokeSchedule(rate: 100, count: 5, concurrency: 2, timeout: .seconds(45)),
                                          thresholds: .none)
        #expect(!report.passed)
        #expect(report.errors == 5 && report.errorRate == 1 && report.responses == 0)
        #expect(report.breaches.map(\.metric) == ["errorRate", "responses"])
        let sample = try #require(report.errorSamples.first)
        #expect(sample.request == "r.jsonl:3" && sample.count == 5, "\(report.summary)")
        #expect(sample.message == "connection refused by http://127.0.0.1:\(port): is the service running?", "\(sample.message)")
    }

    @Test("a schedule or thresholds out of range are refused with the value and an example")
    func invalidSettings() {
        #expect(throws: SmokeError.invalidSchedule("rate 0.0 is not a positive number of requests per second, e.g. 50")) {
            try SmokeSchedule(rate: 0, count: 1)
        }
        #expect(throws: SmokeError.invalidSchedule("concurrency 0 is not from 1 to 10000")) {
            try SmokeSchedule(rate: 1, duration: .seconds(1), concurrency: 0)
        }
        #expect(throws: SmokeError.invalidThresholds("error rate 5.0 is not a share from 0 to 1, e.g. 0.01 for 1 %")) {
            try SmokeThresholds(maxErrorRate: 5)
        }
        #expect((try? SmokeSchedule(rate: 50, duration: .seconds(3)))?.scheduledCount == 150)
    }
}
