import Foundation
@testable import PipelineEngine
import PipelineSpec
import RunStore
import Testing

@Suite("the scheduler, on in-memory stores")
struct SchedulerTests {
    static let diamond = """
        version: 1
        name: d
        stages:
          a: { kind: probe, run: a, outputs: { out: a.txt } }
          b: { kind: probe, run: b, needs: [a], outputs: { out: b.txt } }
          c: { kind: probe, run: c, needs: [a], outputs: { out: c.txt } }
          d: { kind: probe, run: d, needs: [b, c], outputs: { out: d.txt } }

        """

    @Test("stages run after what they need, and every one is recorded succeeded")
    func order() async throws {
        let fixture = try EngineFixture()
        let (id, summaries, _) = try await fixture.run(try fixture.pipeline(Self.diamond))
        let runs = fixture.probe.runs
        #expect(runs.first == "a" && runs.last == "d", "\(runs)")
        #expect(summaries.statuses == ["a": .succeeded, "b": .succeeded, "c": .succeeded, "d": .succeeded])
        #expect(try await fixture.store.stages(runID: id).map(\.status) == [.succeeded, .succeeded, .succeeded, .succeeded])
    }

    @Test("a failed stage skips what is downstream of it, and an unrelated branch still finishes")
    func failureSkipsDownstream() async throws {
        let fixture = try EngineFixture()
        fixture.probe.state.withLock { $0.failing = ["b"] }
        let (_, summaries, _) = try await fixture.run(try fixture.pipeline(Self.diamond))
        #expect(summaries.statuses == ["a": .succeeded, "b": .failed, "c": .succeeded, "d": .skipped])
        #expect(summaries.named("d")?.reason == "upstream b did not succeed")
    }

    @Test("no more stages run at once than --jobs allows")
    func jobsBound() async throws {
        let fixture = try EngineFixture()
        let wide = "version: 1\nname: w\nstages:\n" + (1...6).map { "  s\($0): { kind: probe, run: s\($0) }\n" }.joined()
        fixture.probe.state.withLock { s in for i in 1...6 { s.delays["s\(i)"] = 20_000_000 } }
        _ = try await fixture.run(try fixture.pipeline(wide), jobs: 2)
        #expect(fixture.probe.runs.count == 6)
        #expect(fixture.probe.mostAtOnce == 2)
    }

    @Test("a stage row that cannot be written is kept in the run's journal, not dropped")
    func recordFailureIsJournaled() async throws {
        let fixture = try EngineFixture()
        let pipeline = try fixture.pipeline(Self.diamond)
        fixture.store.fail(operationsContaining: ["stage 'd'"])
        let (_, summaries, journal) = try await fixture.run(pipeline)
        #expect(summaries.named("d")?.status == .succeeded)
        #expect(journal.recordFailures.contains { $0.contains("cannot record stage 'd'") }, "\(journal.recordFailures)")
    }

    @Test("a kind gets a secret it needs only when its stage lists it; otherwise the stage fails saying so")
    func kindSecretsMustBeListed() async throws {
        let fixture = try EngineFixture()
        let yaml = """
            version: 1
            name: s
            secrets: { TOKEN: { env: TOKEN } }
            stages:
              listed: { kind: needy, run: l, secrets: [TOKEN] }
              unlisted: { kind: needy, run: u }

            """
        let (_, summaries, _) = try await fixture.run(try fixture.pipeline(yaml), secrets: ["TOKEN": "s3cr3t"])
        #expect(summaries.named("listed")?.status == .succeeded)
        #expect(fixture.probe.state.withLock { $0.sawToken } == ["s3cr3t"], "only the listing stage ran, and saw it")
        #expect(summaries.named("unlisted")?.status == .failed)
        #expect(summaries.named("unlisted")?.error
                == "pipeline.yaml:6:3: kind 'needy' needs secret 'TOKEN' with these settings, and stage 'unlisted' does not list it; add it to the stage's `secrets:`")
    }
}
