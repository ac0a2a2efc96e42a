import Foundation
import TestSupport
import Testing
@testable import RunStore

@Suite("Run names and notes")
struct RunNoteTests {
    /// The SQLite store (in a temporary folder kept alive by the first value) and the in-memory one.
    static func stores() throws -> [(AnyObject?, any RunStore)] {
        let (folder, sqlite) = try makeStore()
        return [(folder as AnyObject, sqlite), (nil, InMemoryRunStore())]
    }

    @Test("a run's name is stored with it, listed, and found by a part of it in either store")
    func names() async throws {
        for (folder, store) in try Self.stores() {
            _ = folder
            var named = sampleRun(status: .succeeded)
            named.name = "Baseline 50%"
            let first = try await store.createRun(named, stages: plannedStages())
            let second = try await store.createRun(sampleRun(status: .succeeded), stages: plannedStages())

            let whole = try #require(try await store.run(id: first))
            #expect(whole.name == "Baseline 50%")
            #expect(whole.note == nil)
            #expect(whole.pipelineSource == named.pipelineSource, "the whole record still has its pipeline file")
            #expect(try await store.run(id: second)?.name == nil)

            let listed = try await store.runs(RunFilter())
            #expect(listed.map(\.name) == [nil, "Baseline 50%"])
            #expect(try await store.runs(RunFilter(name: "baseline")).map(\.id) == [first])
            #expect(try await store.runs(RunFilter(name: "50%")).map(\.id) == [first])
            #expect(try await store.runs(RunFilter(name: "e_5")).isEmpty, "`_` is no wildcard")
            #expect(try await store.runs(RunFilter(pipeline: "other", name: "base")).isEmpty)
        }
    }

    @Test("a note is set, appended to as a new line, removed by an empty text, and refused for an unknown run")
    func notes() async throws {
        for (folder, store) in try Self.stores() {
            _ = folder
            let id = try await store.createRun(sampleRun(status: .succeeded), stages: plannedStages())
            #expect(try await store.setNote(runID: id, "first", append: false).note == "first")
            #expect(try await store.setNote(runID: id, "second", append: false).note == "second")
            #expect(try await store.setNote(runID: id, "third", append: true).note == "second\nthird")
            #expect(try await store.runs(RunFilter()).first?.note == "second\nthird")
            #expect(try await store.runsToPrune(PruneSelection()).first?.note == "second\nthird")
            #expect(try await store.setNote(runID: id, "", append: false).note == nil)
            #expect(try await store.setNote(runID: id, "only", append: true).note == "only")
            await #expect(throws: RunStoreError.self) { try await store.setNote(runID: 99, "x", append: false) }
        }
    }
}
