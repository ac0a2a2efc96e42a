import Foundation
import Testing

/// The smoke test after the deploy: X = [1, 2, 3, 4] must give y = 10 each (a scale-1
/// model), within 0.01.
private let smokeStage = """
      smoke:
        kind: smoke-test
        with:
          endpoint: ${{ stages.deploy.results.endpoint }}
          requests: smoke/requests.jsonl
          rate: 50
          count: 20
          concurrency: 2
          thresholds: { p99: 5s, error_rate: 0 }
        outputs: { report: report.json }

    """

private let requests = """
    {"body": {"inputs": [{"name": "X", "datatype": "FP32", "shape": [1, 4], "data": [1, 2, 3, 4]}]}, "status": 200, \
    "expect": {"outputs.y.data": {"value": [10, 10, 10], "tolerance": 0.01}}}

    """

private func smokeRepo() throws -> DeployRepo {
    try DeployRepo(pipeline: deployPipeline(extra: smokeStage), files: ["smoke/requests.jsonl": requests])
}

/// Whether something answers HTTP at `endpoint`'s port.
private func answers(_ endpoint: String) -> Bool {
    guard let port = Int(endpoint.split(separator: ":").last ?? "") else { return false }
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}

@Suite("kind: smoke-test after a local deploy", .serialized)
struct DeploySmokeTests {
    @Test("a good model passes its smoke test and serves, the version it replaced stops; `deployments rollback` brings that one back")
    func goodModelPasses() throws {
        let fixture = try smokeRepo()
        defer { fixture.stopAll() }
        let first = try fixture.run(scale: "1")
        #expect(first.status == 0, "\(first)")
        let second = try fixture.run(scale: "1.0001")
        #expect(second.status == 0, "\(second)")
        #expect(try fixture.repo.statuses()["smoke"] == "succeeded")

        let listed = try fixture.deployments()
        #expect(listed.map { $0["state"] as? String } == ["stopped", "serving"])
        #expect(listed.map { $0["version"] as? Int } == [1, 2])
        let endpoint = try #require(listed.last?["endpoint"] as? String)
        #expect(try fixture.infer(endpoint).map { ($0 * 100).rounded() / 100 } == [10, 10, 10])
        let smoke = try #require(listed.last?["smoke"] as? [String: Any])
        #expect(smoke["passed"] as? Bool == true)

        let report = try #require(fixture.repo.read("workspace/runs/2/smoke/report.json"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.utf8)) as? [String: Any])
        #expect(object["passed"] as? Bool == true && object["requestsSent"] as? Int == 20)
        let lineage = try fixture.repo.mlpipe("models", "lineage", "scaler@2")
        #expect(lineage.lines.last?.contains("#2 local \(endpoint) serving") == true, "\(lineage)")
        #expect(lineage.lines.last?.contains("smoke test passed") == true, "\(lineage)")

        // By hand: back to version 1, which had stopped and is started again.
        let rollback = try fixture.repo.mlpipe("deployments", "rollback", "scaler", timeout: 90)
        #expect(rollback.status == 0, "\(rollback)")
        #expect(rollback.lines.last == "scaler@production -> version 1 (was 2)", "\(rollback)")
        let after = try fixture.deployments()
        #expect(after.map { $0["state"] as? String } == ["serving", "rolled-back"])
        #expect(try fixture.infer(try #require(after.first?["endpoint"] as? String)) == [10, 10, 10])
    }

    @Test("lint reports a smoke-test threshold without its unit and an unknown on_failure at their places")
    func lintsSettings() throws {
        let stage = smokeStage.replacingOccurrences(of: "thresholds: { p99: 5s, error_rate: 0 }",
                                                    with: "thresholds: { p99: 200, error_rate: 0 }\n      on_failure: retry")
        let fixture = try DeployRepo(pipeline: deployPipeline(extra: stage), files: ["smoke/requests.jsonl": requests])
        let result = try fixture.repo.mlpipe("lint")
        #expect(result.status == 2, "\(result)")
        #expect(result.errorLines == [
            "pipelines/scaler.yaml:31:26: error: with.thresholds.p99: 200 is not a time; write it with its unit: "
                + "250ms, 5s or 2m",
            "pipelines/scaler.yaml:32:19: error: with.on_failure: 'retry' is not what a failure does; use rollback or keep",
        ], "\(result)")
    }

    @Test("a model that answers wrongly fails the smoke test; the earlier version still answers, the alias is back")
    func wrongModelRollsBack() throws {
        let fixture = try smokeRepo()
        defer { fixture.stopAll() }
        let first = try fixture.run(scale: "1")
        #expect(first.status == 0, "\(first)")
        let good = try #require(try fixture.deployments().first?["endpoint"] as? String)

        let second = try fixture.run(scale: "2")
        #expect(second.status == 1, "\(second)")
        #expect(try fixture.repo.statuses()["smoke"] == "failed")
        #expect(second.stdout.contains("rolled back") && second.stdout.contains("alias production back to 1"), "\(second)")

        let listed = try fixture.deployments()
        #expect(listed.map { $0["state"] as? String } == ["serving", "rolled-back"])
        let bad = try #require(listed.last?["endpoint"] as? String)
        #expect(try fixture.infer(good) == [10, 10, 10])
        #expect(!answers(bad))
        #expect((listed.last?["smoke"] as? [String: Any])?["passed"] as? Bool == false)

        let history = try fixture.repo.mlpipe("models", "history", "scaler@production", "--json")
        let moves = try #require((try history.json() as? [String: Any])?["moves"] as? [[String: Any]])
        #expect(moves.map { $0["version"] as? Int } == [1, 2, 1])

        let report = try #require(fixture.repo.read("workspace/runs/2/smoke/report.json"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.utf8)) as? [String: Any])
        #expect(object["passed"] as? Bool == false)
        let failed = try #require((object["failedExpectations"] as? [[String: Any]])?.first)
        #expect((failed["request"] as? String)?.hasSuffix("smoke/requests.jsonl:1") == true, "\(failed)")
    }
}
