import ArgumentParser
import Deployment
import Foundation

/// `mlpipe smoke ENDPOINT --requests F --rate R --duration D`: the smoke-test stage's load
/// loop on its own, against any V2 endpoint (a deployment, a service a colleague runs, the
/// benchmark's trivial endpoint).
///
/// Prints the report's summary (with `--json`, the report itself, as a stage writes it to
/// `report.json`) and exits 1 when the test failed. The token is read from an environment
/// variable, never from the command line, where any user of the machine could read it.
struct SmokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smoke",
        abstract: "Send requests to a model endpoint on a fixed schedule and check the answers and latencies.",
        discussion: """
            Each line of the requests file (JSON Lines) is a request and what its answer must \
            be: {"body": ..., "path": ..., "status": 200, "expect": {"outputs.label.data": [0]}}. \
            Requests are due at a fixed rate, sent in turn, and each latency is timed from its \
            due time, so a stall shows in the percentiles. Exit status 1 when an expectation \
            is not met or a threshold is crossed.
            """)

    @Argument(help: "The endpoint, http://HOST:PORT or https://HOST:PORT.")
    var endpoint: String

    @Option(name: .long, help: "The requests file (JSON Lines).")
    var requests: String

    @Option(name: .long, help: "Requests per second.")
    var rate: Double = 10

    @Option(name: .long, help: ArgumentHelp("How long to send: 500ms, 10s, 2m.", valueName: "duration"))
    var duration: String?

    @Option(name: .long, help: "Send exactly this many requests instead of for a duration.")
    var count: Int?

    @Option(name: .long, help: "Requests in flight at most (and connections).")
    var concurrency: Int = 8

    @Option(name: .long, help: ArgumentHelp("A request not answered this long after its due time is an error.",
                                            valueName: "duration"))
    var timeout: String = "10s"

    @Option(name: .long, help: "The served model's name, for request lines without a path (/v2/models/NAME/infer).")
    var model: String?

    @Option(name: .long, help: ArgumentHelp("The median latency allowed.", valueName: "duration"))
    var p50: String?

    @Option(name: .long, help: ArgumentHelp("The 95th percentile latency allowed.", valueName: "duration"))
    var p95: String?

    @Option(name: .long, help: ArgumentHelp("The 99th percentile latency allowed.", valueName: "duration"))
    var p99: String?

    @Option(name: .long, help: "The share of requests that may fail (0 to 1; default 0).")
    var maxErrorRate: Double?

    @Option(name: .long, help: ArgumentHelp("The environment variable that holds the bearer token.", valueName: "name"))
    var tokenEnv: String?

    @Option(name: .long, help: ArgumentHelp("Also write the report (JSON) to this file.", valueName: "file"))
    var report: String?

    @Flag(name: .long, help: "Print the report as JSON instead of a summary.")
    var json = false

    func validate() throws {
        guard (duration == nil) != (count == nil) else {
            throw ValidationError("give either --duration or --count")
        }
        // Parsed here, so that a malformed value is a usage error of this command.
        for (option, value) in [("--duration", duration), ("--timeout", timeout), ("--p50", p50), ("--p95", p95),
                                ("--p99", p99)] {
            if let value { _ = try Self.duration(value, option: option) }
        }
        if let tokenEnv, (ProcessInfo.processInfo.environment[tokenEnv] ?? "").isEmpty {
            throw ValidationError("--token-env \(tokenEnv): the variable is not set or empty")
        }
    }

    func run() async throws {
        let console = Console.shared
        let target: ServiceEndpoint
        let schedule: SmokeSchedule
        let thresholds: SmokeThresholds
        let list: [SmokeRequest]
        let token: String?
        do {
            target = try ServiceEndpoint(parsing: endpoint)
            let timeout = try Self.duration(timeout, option: "--timeout")
            if let count {
                schedule = try SmokeSchedule(rate: rate, count: count, concurrency: concurrency, timeout: timeout)
            } else {
                schedule = try SmokeSchedule(rate: rate, duration: Self.duration(duration ?? "", option: "--duration"),
                                             concurrency: concurrency, timeout: timeout)
            }
            thresholds = try SmokeThresholds(p50: p50.map { try Self.duration($0, option: "--p50") },
                                             p95: p95.map { try Self.duration($0, option: "--p95") },
                                             p99: p99.map { try Self.duration($0, option: "--p99") },
                                             maxErrorRate: maxErrorRate)
            list = try SmokeRequests.load(path: requests, model: model)
            token = tokenEnv.flatMap { ProcessInfo.processInfo.environment[$0] }
        } catch let error as SmokeError {
            if case .unreadable = error {
                console.error("mlpipe: error: \(error)")
                throw ExitCode(3)
            }
            console.error(error.description.hasPrefix(requests + ":") ? "\(error)" : "mlpipe: error: \(error)")
            throw ExitCode(2)
        } catch let error as EndpointError {
            console.error("mlpipe: error: \(error)")
            throw ExitCode(2)
        }
        let result = try await SmokeTester(endpoint: target, token: token)
            .run(requests: list, schedule: schedule, thresholds: thresholds)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let data = try encoder.encode(result)
        if let report {
            do {
                try data.write(to: URL(fileURLWithPath: report), options: .atomic)
            } catch {
                console.error("mlpipe: error: cannot write the report to \(report): \(error.localizedDescription)")
                throw ExitCode(3)
            }
        }
        console.out(json ? String(decoding: data, as: UTF8.self) : result.summary)
        if !result.passed { throw ExitCode(1) }
    }

    /// `500ms`, `10s`, `2m`, or a number of seconds.
    static func duration(_ text: String, option: String) throws -> Duration {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            if let number = Double(text.dropLast(suffix.count)), number.isFinite, number >= 0 {
                return .nanoseconds(Int64((number * scale * 1e9).rounded()))
            }
        }
        if let seconds = Double(text), seconds.isFinite, seconds >= 0 {
            return .nanoseconds(Int64((seconds * 1e9).rounded()))
        }
        throw ValidationError("\(option) '\(text)' is not a duration such as 500ms, 10s or 2m")
    }
}
