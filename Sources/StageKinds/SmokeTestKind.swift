import Deployment
import Foundation
import PipelineEngine
import PipelineSpec

/// `kind: smoke-test`: sends a file of requests to a deployed service on a fixed schedule,
/// checks each answer and the latency and error-rate thresholds, writes `report.json`, and
/// settles the deployment it tested.
///
/// The load loop is `Deployment`'s `SmokeTester`. When the endpoint is a local deployment
/// (`kind: deploy`), a pass confirms it (it becomes `serving` and the version it replaced
/// is stopped), and a failure with `on_failure: rollback` stops it, lets the replaced
/// version serve, moves the deploy's alias back (in the registry the deploy moved it in,
/// MLflow's included: see `DeployRollback`), and fails the stage; with `keep` it is
/// left running beside the old one and the stage fails. Either way the verdict is kept
/// with the deployment (`deployments list`, `models lineage`). Results: `passed`,
/// `p99_ms`, `error_rate`. Never cached: it measures a service, not files.
public struct SmokeTestKind: StageKind {
    public init() {}

    public var schema: KindSchema {
        KindSchema(name: "smoke-test", settings: SmokeTestSettings.self, results: ["passed", "p99_ms", "error_rate"],
                   cachedByDefault: false)
    }

    public var implementationVersion: String { "1" }

    /// The bearer token's secret, when one is named.
    public func secrets(for settings: SmokeTestSettings) -> [String] { settings.token.map { [$0] } ?? [] }

    /// Tests and settles; see the type's documentation.
    public func run(_ context: StageContext, settings: SmokeTestSettings) async throws -> StageResult {
        let deployer = try LocalDeployer(workspace: context.workspace)
        let deployment = try deployer.store.running(at: settings.endpoint)
        let requestsPath = RegisterKind.absolute(settings.requests, in: context)
        let requests: [SmokeRequest]
        do {
            requests = try SmokeRequests.load(path: requestsPath, model: deployment?.model)
        } catch let error as SmokeError {
            throw StageFailure("smoke-test: \(error)")
        }
        var token: String?
        if let secret = settings.token {
            guard let value = context.secrets[secret] else {
                throw StageFailure("smoke-test: the secret '\(secret)' named by `token` was not given to the stage; "
                                   + "list it under the stage's `secrets:`")
            }
            token = value
        }
        let report: SmokeReport
        do {
            report = try await SmokeTester(endpoint: settings.endpoint, token: token)
                .run(requests: requests, schedule: try schedule(settings, lines: requests.count),
                     thresholds: try thresholds(settings))
        } catch let error as SmokeError {
            throw StageFailure("smoke-test: \(error)")
        }
        let reportPath = ContainerizeKind.outputPath(context, names: ["report"], default: "report.json")
        try write(report, to: reportPath)
        for line in report.summary.split(separator: "\n") { context.log.line(String(line)) }
        let latency = report.latencyMilliseconds
        var verdict = "\(report.requestsSent) requests, p50 \(String(format: "%.1f", latency.p50)) ms, "
            + "p99 \(String(format: "%.1f", latency.p99)) ms, \(report.errors) errors"
        if let first = report.breaches.first?.message ?? report.failedExpectations.first.map({ "\($0.request): \($0.message)" }) {
            verdict += "; " + first
        }
        if let deployment {
            try deployer.store.recordSmoke(SmokeVerdict(
                passed: report.passed, runID: context.runID, stage: context.stageName,
                report: reportPath.hasPrefix(context.workspace + "/") ? String(reportPath.dropFirst(context.workspace.count + 1)) : reportPath,
                summary: verdict, at: Date()), of: deployment.id)
        }
        guard report.passed else {
            throw try await failure(report, deployment: deployment, settings: settings, context: context)
        }
        if let deployment {
            for stopped in try await deployer.confirm(deployment.id) {
                context.log.line("stopped deployment #\(stopped.id) (\(stopped.modelVersion)): replaced by "
                                 + "#\(deployment.id) (\(deployment.modelVersion))")
            }
            context.log.line("deployment #\(deployment.id) (\(deployment.modelVersion)) serves \(deployment.name) "
                             + "at \(deployment.endpoint)")
        }
        return StageResult(results: [
            "passed": .bool(true), "p99_ms": .double(report.latencyMilliseconds.p99),
            "error_rate": .double(report.errorRate),
        ])
    }

    /// The stage's failure, after the rollback `on_failure` asks for.
    func failure(_ report: SmokeReport, deployment: DeploymentRecord?, settings: SmokeTestSettings,
                 context: StageContext) async throws -> StageFailure {
        let what = "smoke-test: \(report.summary.split(separator: "\n").prefix(4).joined(separator: "; "))"
        guard let deployment else {
            return StageFailure(what + " (\(settings.endpoint) is not a local deployment: nothing was rolled back)")
        }
        switch settings.onFailure {
        case .keep:
            return StageFailure(what + "; deployment #\(deployment.id) (\(deployment.modelVersion)) is kept running "
                                + "(on_failure: keep); `mlpipe deployments rollback \(deployment.name)` undoes it")
        case .rollback:
            let outcome = try await DeployRollback.rollback(
                deployment.id, workspace: context.workspace,
                provenance: RegisterKind.provenance(context, fallbackCommit: nil),
                environment: context.inheritedEnvironment.merging(context.secrets) { $1 }) { context.log.line($0) }
            var text = what + "; rolled back: deployment #\(deployment.id) (\(deployment.modelVersion)) stopped"
            if let restored = outcome.rollback.restored {
                text += ", #\(restored.id) (\(restored.modelVersion)) serves at \(restored.endpoint)"
            }
            if let alias = outcome.alias {
                text += ", alias \(alias.name) back to \(alias.version)"
                    + (deployment.launch?.aliasRegistry.map { " in the MLflow registry at \($0.trackingURI)" } ?? "")
            }
            return StageFailure(text)
        }
    }

    /// The schedule: `count` requests, or `duration` seconds, or each line once.
    func schedule(_ settings: SmokeTestSettings, lines: Int) throws -> SmokeSchedule {
        if let duration = settings.duration {
            return try SmokeSchedule(rate: settings.rate, duration: .milliseconds(Int64(duration * 1000)),
                                     concurrency: settings.concurrency)
        }
        return try SmokeSchedule(rate: settings.rate, count: settings.count ?? lines, concurrency: settings.concurrency)
    }

    /// The thresholds as the tester takes them.
    func thresholds(_ settings: SmokeTestSettings) throws -> SmokeThresholds {
        func limit(_ milliseconds: Double?) -> Duration? { milliseconds.map { .microseconds(Int64($0 * 1000)) } }
        return try SmokeThresholds(p50: limit(settings.p50), p95: limit(settings.p95), p99: limit(settings.p99),
                                   maxErrorRate: settings.errorRate)
    }

    /// `report.json`: the report, keys sorted, written to a temporary file and renamed.
    func write(_ report: SmokeReport, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        do {
            let folder = (path as NSString).deletingLastPathComponent
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            var data = try encoder.encode(report)
            data.append(0x0A)
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw StageFailure("smoke-test: cannot write the report \(path): \(error.localizedDescription)")
        }
    }
}
