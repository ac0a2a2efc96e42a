import Foundation
import Testing

/// The built `mlpipe` binary, next to the test bundle (or $MLPIPE_BIN).
let mlpipeBinary: String = {
    if let path = ProcessInfo.processInfo.environment["MLPIPE_BIN"] { return path }
    let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var dir = runner.deletingLastPathComponent()
    // The test bundle sits in .build/<triple>/debug/ (as a folder on macOS, a file on Linux).
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("mlpipe").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug/mlpipe").path
}()

/// What a finished process printed and how it ended.
struct Outcome: CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String
    var lines: [String] { stdout.split(separator: "\n").map(String.init) }
    var errorLines: [String] { stderr.split(separator: "\n").map(String.init) }
    var description: String { "exit \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }

    /// The JSON document on stdout.
    func json() throws -> Any {
        try JSONSerialization.jsonObject(with: Data(stdout.utf8))
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
}

/// A git repository in a temporary folder, removed when the test ends.
final class TempRepo: @unchecked Sendable {
    // Used by one test at a time; the tests that share nothing run in parallel.
    let root: String

    init(files: [String: String] = [:], commit: Bool = true) throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("mlpipe-e2e-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        root = base.resolvingSymlinksInPath().path
        try git("init", "-q", "-b", "main")
        try git("config", "user.email", "test@example.com")
        try git("config", "user.name", "Test")
        try git("config", "commit.gpgsign", "false")
        for (path, content) in files { try write(path, content) }
        if commit && !files.isEmpty { try self.commit("initial") }
    }

    deinit {
        try? FileManager.default.removeItem(atPath: root)
    }

    func path(_ relative: String) -> String { root + "/" + relative }

    func write(_ relative: String, _ content: String) throws {
        let url = URL(fileURLWithPath: path(relative))
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(content.utf8).write(to: url)
    }

    func read(_ relative: String) -> String? {
        FileManager.default.contents(atPath: path(relative)).map { String(decoding: $0, as: UTF8.self) }
    }

    func commit(_ message: String) throws {
        try git("add", "-A")
        try git("commit", "-q", "-m", message, "--allow-empty")
    }

    @discardableResult
    func git(_ args: String...) throws -> String {
        let result = try runProcess("/usr/bin/git", args, in: root)
        guard result.status == 0 else { throw HarnessError(description: "git \(args.joined(separator: " ")) failed: \(result.stderr)") }
        return result.stdout
    }

    /// Runs mlpipe in the repository.
    @discardableResult
    func mlpipe(_ args: String..., env: [String: String] = [:], timeout: Double = 120) throws -> Outcome {
        try runProcess(mlpipeBinary, args, in: root, env: env, timeout: timeout)
    }

    func mlpipe(arguments: [String], env: [String: String] = [:], timeout: Double = 120) throws -> Outcome {
        try runProcess(mlpipeBinary, arguments, in: root, env: env, timeout: timeout)
    }

    /// `runs show RUN --json`.
    func show(_ run: String = "latest") throws -> [String: Any] {
        let result = try mlpipe("runs", "show", run, "--json")
        guard result.status == 0, let object = try result.json() as? [String: Any] else {
            throw HarnessError(description: "runs show failed: \(result)")
        }
        return object
    }

    /// Stage name -> stage object of `runs show --json`.
    func stages(_ run: String = "latest") throws -> [String: [String: Any]] {
        let stages = try show(run)["stages"] as? [[String: Any]] ?? []
        return Dictionary(uniqueKeysWithValues: stages.map { ($0["name"] as! String, $0) })
    }

    func statuses(_ run: String = "latest") throws -> [String: String] {
        try stages(run).mapValues { $0["status"] as? String ?? "?" }
    }
}

/// The test environment for a child: no colour, no CI trigger, no workspace override,
/// plus `env`.
func childEnvironment(_ env: [String: String]) -> [String: String] {
    var environment = ProcessInfo.processInfo.environment
    environment["NO_COLOR"] = "1"
    environment.removeValue(forKey: "MLPIPE_WORKSPACE")
    environment.removeValue(forKey: "CI")
    environment.removeValue(forKey: "GITHUB_ACTIONS")
    environment.removeValue(forKey: "GITHUB_STEP_SUMMARY")
    for (key, value) in env { environment[key] = value }
    return environment
}

/// A child process started with posix_spawn, its output in temp files, and reaped with
/// waitpid on its own pid. Foundation's `Process` is not used: on Linux it learns of an
/// exit through a socket that a process spawned at the same moment by another test can
/// inherit, and then reports a finished child as running until that other one ends.
struct Child {
    let pid: pid_t
    let command: String
    let out: URL
    let err: URL

    /// `stdoutTo` sends standard output to that file instead of a temp file.
    init(_ executable: String, _ args: [String], in directory: String, env: [String: String] = [:],
         stdoutTo: String? = nil) throws {
        command = ([executable] + args).joined(separator: " ")
        let tmp = FileManager.default.temporaryDirectory
        out = tmp.appendingPathComponent("out-\(UUID().uuidString)")
        err = tmp.appendingPathComponent("err-\(UUID().uuidString)")
        let outFD = stdoutTo.map { open($0, O_WRONLY | O_CLOEXEC) } ?? open(out.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        let errFD = open(err.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        defer { if outFD >= 0 { close(outFD) }; if errFD >= 0 { close(errFD) } }
        guard outFD >= 0, errFD >= 0 else {
            throw HarnessError(description: "cannot create output files in \(tmp.path): \(String(cString: strerror(errno)))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outFD, 1)
        posix_spawn_file_actions_adddup2(&actions, errFD, 2)
        guard addChdir(&actions, directory) == 0 else {
            throw HarnessError(description: "cannot set the folder \(directory) for \(executable)")
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t(), defaults = sigset_t()
        sigemptyset(&noSignals)
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGCHLD, SIGHUP, SIGQUIT] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([executable] + args).map { strdup($0) } + [nil]
        let envp = childEnvironment(env).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var pid: pid_t = 0
        let code = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard code == 0 else {
            throw HarnessError(description: "cannot start \(executable): \(String(cString: strerror(code)))")
        }
        self.pid = pid
    }

    /// What the child has written to stderr so far.
    var stderrSoFar: String { String(decoding: (try? Data(contentsOf: err)) ?? Data(), as: UTF8.self) }

    /// Waits for the child to end, up to `timeout` seconds; past it, the child is killed
    /// and the error says what it was doing (its state and kernel wait channel).
    func finish(timeout: Double = 120) throws -> Outcome {
        defer {
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
        }
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        while true {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { break }
            if reaped < 0 && errno != EINTR {
                throw HarnessError(description: "waitpid(\(pid)) for \(command): \(String(cString: strerror(errno)))")
            }
            if Date() >= deadline {
                let state = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? "?"
                let channel = (try? String(contentsOfFile: "/proc/\(pid)/wchan", encoding: .utf8)) ?? "?"
                let threads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task").count) ?? 0
                kill(pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                throw HarnessError(description: "\(command) did not finish in \(timeout)s (stat: \(state.prefix(80)); "
                    + "wchan: \(channel); threads: \(threads)); stderr so far:\n\(stderrSoFar)")
            }
            usleep(5_000)
        }
        let signal = status & 0x7f
        let code = signal == 0 ? (status >> 8) & 0xff : signal
        let stdout = String(decoding: (try? Data(contentsOf: out)) ?? Data(), as: UTF8.self)
        return Outcome(status: code, stdout: stdout, stderr: stderrSoFar)
    }

    /// Whether the child still runs (it is not reaped and not a zombie).
    var isRunning: Bool { isAlive(pid) }
}

/// glibc's posix_spawn_file_actions_addchdir_np (2.29+), which Swift's Glibc module
/// does not declare.
private let addChdir: @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32 = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np") else {
        fatalError("glibc 2.29 or later is needed: posix_spawn_file_actions_addchdir_np is missing")
    }
    return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32).self)
}()

/// Runs a program to completion with a deadline; output goes through temp files so that
/// neither stream can block the other.
func runProcess(_ executable: String, _ args: [String], in directory: String, env: [String: String] = [:],
                timeout: Double = 120) throws -> Outcome {
    try Child(executable, args, in: directory, env: env).finish(timeout: timeout)
}

/// Waits for a condition with a deadline (never a bare sleep).
func waitFor(_ what: String, timeout: Double = 30, _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return }
        usleep(20_000)
    }
    throw HarnessError(description: "timed out waiting for \(what)")
}

/// Whether `pid` runs: it exists and is not a zombie (an orphan whose reaper is slow).
func isAlive(_ pid: pid_t) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return true }
    return !stat[close...].dropFirst().trimmingCharacters(in: .whitespaces).hasPrefix("Z")
}

/// The pid that a stage wrote to `path` (`echo $$ > "$MAIN"`, `echo $! > "$CHILD"`).
func readPid(_ path: String) throws -> pid_t {
    let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    guard let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1 else {
        throw HarnessError(description: "no pid in \(path): '\(text)'")
    }
    return pid
}

/// Kills, by pid, those of `pids` that still run: what a test started (through
/// mlpipe's stages) and must not leave behind. Call it from a `defer`.
func endSurvivors(_ pids: [pid_t]) {
    for pid in pids where isAlive(pid) { kill(pid, SIGKILL) }
}
