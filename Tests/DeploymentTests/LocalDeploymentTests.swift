import Foundation
import Testing
@testable import Deployment

/// A temporary folder, removed when the test ends.
private final class TempFolder: @unchecked Sendable {
    // Used by one test only.
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("deploy-\(UUID().uuidString.prefix(8))")
            .resolvingSymlinksInPath().path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A record of `process`, as a deploy would insert it.
private func record(_ process: ServiceProcess, folder: String, status: DeploymentStatus = .candidate) -> DeploymentRecord {
    let launch = LaunchSpec(python: "/bin/false", app: folder + "/app", package: folder + "/package", modelVersion: 3,
                            port: 8081, tokenSecret: "SERVING_TOKEN")
    return DeploymentRecord(id: 0, name: "iris", target: "local", model: "iris", version: 3, endpoint: launch.endpoint,
                            status: status, pid: process.pid, pidStartTime: process.startTime, host: hostName(),
                            folder: folder, logPath: folder + "/service.log", alias: "production", aliasWas: 2,
                            createdAt: Date(timeIntervalSince1970: 1_800_000_000), launch: launch)
}

/// This machine's name as `ProcessIdentity` reads it.
private func hostName() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    gethostname(&buffer, 255)
    return String(cString: buffer)
}

/// Waits for a condition with a deadline.
private func waitFor(_ what: String, timeout: Double = 10, _ condition: () -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return }
        usleep(20_000)
    }
    throw DeploymentError(.notReady, "timed out waiting for \(what)", remedy: "")
}

@Suite("local deployments: the process, its record, its runtime")
struct LocalDeploymentTests {
    @Test("a recorded deployment reads back whole, and reads as dead once its process is gone")
    func recordReadsBackThenDead() async throws {
        let folder = try TempFolder()
        let store = try DeploymentStore(path: folder.path + "/mlpipe.db")
        let process = try ServiceProcess.start(["/bin/sleep", "30"], environment: [:], folder: folder.path,
                                               log: folder.path + "/service.log")
        let inserted = try store.insert(record(process, folder: folder.path))
        #expect(inserted.id == 1)
        let read = try #require(try store.record(id: 1))
        #expect(read == inserted)
        #expect(read.state == "candidate")
        #expect(read.launch?.tokenSecret == "SERVING_TOKEN")
        #expect(try store.running(at: read.endpoint)?.id == 1)

        await process.stop(grace: 5)
        #expect(!process.isAlive)
        #expect(try store.record(id: 1)?.state == "dead")
        try store.setStatus(.stopped, of: 1)
        #expect(try store.record(id: 1)?.state == "stopped")
        #expect(try store.running(at: read.endpoint) == nil)
    }

    @Test("stopping a service ends its whole process group, and a smoke outcome is kept with it")
    func stopEndsTheGroup() async throws {
        let folder = try TempFolder()
        let pidFile = folder.path + "/child.pid"
        let process = try ServiceProcess.start(["/bin/sh", "-c", "sleep 30 & echo $! > \(pidFile); wait"],
                                               environment: ["PATH": "/usr/bin:/bin"], folder: folder.path,
                                               log: folder.path + "/service.log")
        try waitFor("the child's pid") { FileManager.default.fileExists(atPath: pidFile) && ((try? String(contentsOfFile: pidFile, encoding: .utf8)) ?? "").hasSuffix("\n") }
        let child = try #require(Int32(try String(contentsOfFile: pidFile, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(child, 0) == 0)
        await process.stop(grace: 5)
        try waitFor("the child to end") { kill(child, 0) != 0 || isZombie(child) }

        let store = try DeploymentStore(path: folder.path + "/mlpipe.db")
        let inserted = try store.insert(record(process, folder: folder.path))
        let outcome = SmokeVerdict(passed: false, runID: 4, stage: "smoke", report: "runs/4/smoke/report.json",
                                   summary: "p99 12.0 ms > 10 ms", at: Date(timeIntervalSince1970: 1_800_000_100))
        try store.recordSmoke(outcome, of: inserted.id)
        #expect(try store.deployments(model: "iris", version: 3).map(\.smoke) == [outcome])
    }

    @Test("the runtime's requirement lines are sorted, once each, without comments; other lines give another venv")
    func runtimeLines() {
        let lines = RuntimeVenv.lines(appRequirements: "# pinned\nfastapi==0.165.0\n\nuvicorn==0.54.0  # server\n",
                                      packageRequirements: ["numpy==2.4.6", "fastapi==0.165.0"])
        #expect(lines == ["fastapi==0.165.0", "numpy==2.4.6", "uvicorn==0.54.0"])
        let venv = RuntimeVenv(root: "/w/deploy/venvs", basePython: "python3")
        #expect(venv.folder(for: lines) == venv.folder(for: lines))
        #expect(venv.folder(for: lines) != venv.folder(for: lines + ["scipy==1.17.1"]))
        #expect(venv.folder(for: lines).hasPrefix("/w/deploy/venvs/"))
    }

    @Test("a log's tail is its last lines, also when the file is longer than what is read")
    func logTail() throws {
        let folder = try TempFolder()
        let path = folder.path + "/service.log"
        let text = (1...3000).map { "line \($0) " + String(repeating: "x", count: 20) }.joined(separator: "\n") + "\n"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let tail = ServiceProcess.tail(of: path, lines: 3)
        #expect(tail.map { $0.prefix(9) } == ["line 2998", "line 2999", "line 3000"])
        #expect(ServiceProcess.tail(of: folder.path + "/missing.log").isEmpty)
    }
}

/// Whether `pid` is an exited process that waits to be reaped.
private func isZombie(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return false }
    return stat[close...].dropFirst().trimmingCharacters(in: .whitespaces).hasPrefix("Z")
}
