import Foundation
import TestSupport
import Testing
@testable import RunStore

@Suite("Interrupted runs")
struct InterruptedRunTests {
    /// The pid of a process that has exited and been reaped.
    func deadProcess() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }

    @Test("a running run whose process is gone becomes interrupted, and its unfinished stages cancelled")
    func deadRunIsInterrupted() async throws {
        let (folder, store) = try makeStore()
        _ = folder
        let me = ProcessIdentity.current()
        let dead = try deadProcess()
        let host = ProcessIdentity.hostName()

        let live = try store.createRun(sampleRun(host: host, pid: me.pid, pidStartTime: me.startTime), stages: plannedStages())
        let gone = try store.createRun(sampleRun(startedAt: moment(0), host: host, pid: dead, pidStartTime: me.startTime),
                                       stages: plannedStages())
        let elsewhere = try store.createRun(sampleRun(host: "other-host", pid: dead, pidStartTime: 1), stages: [])
        let finished = try store.createRun(sampleRun(host: host, pid: dead, pidStartTime: 1), stages: [])
        try store.finishRun(id: finished, status: .failed, finishedAt: moment(3))

        try store.updateStage(StageRecord(runID: gone, name: "train", kind: "command", position: 0, status: .succeeded,
                                          startedAt: moment(1), finishedAt: moment(4)), outputs: nil)
        try store.updateStage(StageRecord(runID: gone, name: "validate", kind: "validate", position: 1, status: .running,
                                          startedAt: moment(4.5)), outputs: nil)

        let marked = try await store.markInterruptedRuns()
        #expect(marked == [gone])
        #expect(try store.run(id: gone)?.status == .interrupted)
        #expect(try store.run(id: gone)?.finishedAt == moment(4.5))
        let stages = try store.stages(runID: gone)
        #expect(stages.map(\.status) == [.succeeded, .cancelled, .cancelled])
        #expect(stages.map(\.error) == [nil, "run interrupted", "run interrupted"])
        #expect(try store.run(id: live)?.status == .running)
        #expect(try store.stages(runID: live).map(\.status) == [.pending, .pending, .pending])
        #expect(try store.run(id: elsewhere)?.status == .running)
        #expect(try store.run(id: finished)?.status == .failed)

        #expect(try store.markInterruptedRuns(host: host, isAlive: ProcessIdentity.isAlive).isEmpty)
    }

    @Test("the current process is alive; an exited one, or one started at another time, is not")
    func liveness() throws {
        let me = ProcessIdentity.current()
        #expect(me.pid == getpid())
        #expect(me.startTime > 0)
        #expect(ProcessIdentity.isAlive(pid: me.pid, startTime: me.startTime))
        #expect(!ProcessIdentity.isAlive(pid: me.pid, startTime: me.startTime + 1))
        #expect(!ProcessIdentity.isAlive(pid: try deadProcess(), startTime: 0))
        #expect(!ProcessIdentity.isAlive(pid: 0, startTime: 0))
        #expect(!ProcessIdentity.isAlive(pid: -1, startTime: 0))
    }

    @Test("a command name with spaces and parentheses does not shift the stat fields")
    func statParsing() {
        let line = "1234 (my (odd) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 ..."
        let parsed = ProcessIdentity.parseStat(Array(line.utf8))
        #expect(parsed?.state == UInt8(ascii: "S"))
        #expect(parsed?.startTime == 987654)
        #expect(ProcessIdentity.parseStat(Array("garbage".utf8)) == nil)
    }
}
