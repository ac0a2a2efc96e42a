import Foundation
import PipelineEngine
import Testing

/// Real `sh` processes. Each test's processes write their pids to files; the test checks
/// them and kills whatever survives by those pids, never by name. Each test has its own
/// `RunningStages`, so that stopping "everything" stops only its own processes.
// The limit leaves room for a test process whose threads are all busy with other tests
// for a minute or more, as seen on 2 cores with builds running beside it.
@Suite("local process executor", .timeLimit(.minutes(5)))
struct LocalProcessExecutorTests {
    @Test("a process's output reaches the sink, and a timeout ends the whole process group, background child included")
    func timeoutEndsGroup() async throws {
        let folder = try ProcessFolder()
        let sink = try LogSink(path: folder.path("log"), masker: .none)
        let spec = ProcessSpec(stageName: "slow", command: .shell("sleep 30 & echo $! > \"$CHILD\"; echo started; sleep 30"),
                               workingDirectory: folder.root, environment: ["CHILD": folder.path("child")],
                               inheritedEnvironment: ["PATH": "/usr/bin:/bin"], timeout: 0.5, gracePeriod: 1)
        let outcome = try await LocalProcessExecutor(registry: RunningStages()).execute(spec, log: sink)
        try sink.close()
        #expect(outcome == .timedOut)
        #expect(sink.tail == ["started"])
        let child = try folder.pid("child")
        defer { endSurvivors([child]) }
        try await waitUntil("the background child \(child) to be gone") { !isAlive(child) }
    }

    @Test("cancelling sends SIGTERM and waits the grace period; stopping now sends SIGKILL to the group at once")
    func escalation() async throws {
        let folder = try ProcessFolder()
        let sink = try LogSink(path: folder.path("log"), masker: .none)
        // The shell reports SIGTERM and goes on; its background child ignores SIGTERM.
        let script = """
            trap 'echo got TERM' TERM
            (trap '' TERM; exec sleep 60) &
            echo $! > "$CHILD"
            echo $$ > "$MAIN"
            while :; do wait; done
            """
        let spec = ProcessSpec(stageName: "stubborn", command: .shell(script), workingDirectory: folder.root,
                               environment: ["CHILD": folder.path("child"), "MAIN": folder.path("main")],
                               inheritedEnvironment: ["PATH": "/usr/bin:/bin"], gracePeriod: 600)
        let registry = RunningStages()
        let executor = LocalProcessExecutor(registry: registry)
        let task = Task { try await executor.execute(spec, log: sink) }
        // Whatever fails below, the stage does not outlive the test.
        defer { registry.stopAllNow() }
        try await waitUntil("the stage to write its pids") { (try? folder.pid("main")) != nil }
        let main = try folder.pid("main"), child = try folder.pid("child")
        defer { endSurvivors([main, child]) }
        // The executor registers the group once spawn returns, which may be after the
        // shell has already written its pids.
        try await waitUntil("the stage to be registered") { !registry.running.isEmpty }
        #expect(registry.running == [RunningStages.Entry(stageName: "stubborn", gracePeriod: 600)])

        task.cancel()
        try await waitUntil("SIGTERM to reach the shell") { sink.tail.contains("got TERM") }
        #expect(isAlive(main) && isAlive(child), "within its grace period the group is left running")

        let stoppedAt = ContinuousClock.now
        #expect(registry.stopAllNow().map(\.stageName) == ["stubborn"])
        let outcome = try await task.value
        #expect(outcome == .cancelled)
        // Against the 600 s grace period, with room for a test process whose threads are
        // busy elsewhere (40 s was seen on 2 cores with builds running beside it).
        #expect(ContinuousClock.now - stoppedAt < .seconds(240), "SIGKILL, not the 600 s grace period")
        #expect(!isAlive(main))
        try await waitUntil("the background child \(child) to be gone") { !isAlive(child) }
        #expect(registry.running.isEmpty)
        try sink.close()
    }

    @Test("a process that starts after everything was stopped is stopped at once")
    func stoppedBeforeStart() async throws {
        let folder = try ProcessFolder()
        let sink = try LogSink(path: folder.path("log"), masker: .none)
        let registry = RunningStages()
        registry.stopAllNow()
        let spec = ProcessSpec(stageName: "late", command: .shell("echo $$ > \"$MAIN\"; exec sleep 60"), workingDirectory: folder.root,
                               environment: ["MAIN": folder.path("main")], inheritedEnvironment: ["PATH": "/usr/bin:/bin"],
                               gracePeriod: 60)
        let start = ContinuousClock.now
        let outcome = try await LocalProcessExecutor(registry: registry).execute(spec, log: sink)
        #expect(outcome == .cancelled)
        // Against the `sleep 60` it would otherwise wait for, with room for a loaded
        // machine (20 s was seen with a release build beside the whole suite).
        #expect(ContinuousClock.now - start < .seconds(40))
        if let main = try? folder.pid("main") {
            defer { endSurvivors([main]) }
            #expect(!isAlive(main))
        }
        try sink.close()
    }

    @Test("a log on a full disk (/dev/full) stops the process and is an environment error that names the file")
    func logOnFullDisk() async throws {
        let folder = try ProcessFolder()
        // /dev/full takes the open and fails every write with ENOSPC: the path of a real
        // full disk, without a mount.
        let sink = try LogSink(path: "/dev/full", masker: .none)
        let spec = ProcessSpec(stageName: "fill", command: .shell("echo $$ > \"$MAIN\"; yes filling the disk"),
                               workingDirectory: folder.root, environment: ["MAIN": folder.path("main")],
                               inheritedEnvironment: ["PATH": "/usr/bin:/bin"], gracePeriod: 5)
        let error = await #expect(throws: EngineError.self) {
            try await LocalProcessExecutor(registry: RunningStages()).execute(spec, log: sink)
        }
        #expect(error?.category == .environment)
        #expect(error?.message.hasPrefix("cannot write the log /dev/full: No space left on device; free space") == true,
                "\(String(describing: error))")
        let main = try folder.pid("main")
        defer { endSurvivors([main]) }
        try await waitUntil("the stage \(main) to be gone") { !isAlive(main) }
        #expect(throws: EngineError.self) { try sink.close() }
    }

    @Test("a log line that cannot be written is reported when the sink is closed")
    func lineOnFullDisk() throws {
        let sink = try LogSink(path: "/dev/full", masker: .none)
        sink.line("a notice")
        let error = #expect(throws: EngineError.self) { try sink.close() }
        #expect(error?.message.contains("/dev/full: No space left on device") == true)
    }

    @Test("a process inherits no descriptor of mlpipe's beyond stdin, stdout and stderr")
    func noInheritedDescriptors() async throws {
        let folder = try ProcessFolder()
        let sink = try LogSink(path: folder.path("log"), masker: .none)
        // Without close-on-exec, as a parent's pipe or Foundation's Process socket is.
        let leaked = open("/dev/null", O_RDONLY)
        try #require(leaked > 2)
        defer { close(leaked) }
        let spec = ProcessSpec(stageName: "fds", command: .shell("test -e /proc/$$/fd/\(leaked) && echo leaked || echo clean"),
                               workingDirectory: folder.root, environment: [:], inheritedEnvironment: ["PATH": "/usr/bin:/bin"])
        let outcome = try await LocalProcessExecutor(registry: RunningStages()).execute(spec, log: sink)
        try sink.close()
        #expect(outcome == .exited(0))
        #expect(sink.tail == ["clean"])
    }

    @Test("an argv command gets the stage's environment over mlpipe's inherited one")
    func argvAndEnvironment() async throws {
        let folder = try ProcessFolder()
        let sink = try LogSink(path: folder.path("log"), masker: .none)
        let spec = ProcessSpec(stageName: "env", command: .argv(["sh", "-c", "echo \"$X $Y\"", "ignored"]),
                               workingDirectory: folder.root, environment: ["X": "stage"],
                               inheritedEnvironment: ["X": "inherited", "Y": "inherited", "PATH": "/usr/bin:/bin"])
        let outcome = try await LocalProcessExecutor(registry: RunningStages()).execute(spec, log: sink)
        try sink.close()
        #expect(outcome == .exited(0))
        #expect(sink.tail == ["stage inherited"])
    }
}

/// A temporary folder for a test's files, removed when the test ends.
final class ProcessFolder: Sendable {
    let root: String

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("exec-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: root)
    }

    func path(_ name: String) -> String { root + "/" + name }

    /// The pid a process wrote to `name`.
    func pid(_ name: String) throws -> pid_t {
        let text = try String(contentsOfFile: path(name), encoding: .utf8)
        guard let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: path(name)])
        }
        return pid
    }
}

/// Kills, by pid, those of `pids` that still run. Call it from a `defer`.
func endSurvivors(_ pids: [pid_t]) {
    for pid in pids where isAlive(pid) { kill(pid, SIGKILL) }
}

/// Whether `pid` runs: it exists and is not a zombie (an orphan whose reaper is slow).
func isAlive(_ pid: pid_t) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return true }
    return !stat[close...].dropFirst().trimmingCharacters(in: .whitespaces).hasPrefix("Z")
}

/// Polls `condition` until it holds, or fails after `timeout` seconds.
func waitUntil(_ what: String, timeout: Double = 30, _ condition: () throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .milliseconds(Int64(timeout * 1000))
    while ContinuousClock.now < deadline {
        if try condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("timed out after \(timeout)s waiting for \(what)")
    throw CancellationError()
}
