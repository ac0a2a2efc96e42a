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

/// A process for `executable` in `directory`, with the test environment: no colour, no
/// CI trigger, no workspace override, plus `env`.
func configuredProcess(_ executable: String, _ args: [String], in directory: String,
                       env: [String: String]) -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = args
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    var environment = ProcessInfo.processInfo.environment
    environment["NO_COLOR"] = "1"
    environment.removeValue(forKey: "MLPIPE_WORKSPACE")
    environment.removeValue(forKey: "CI")
    for (key, value) in env { environment[key] = value }
    process.environment = environment
    return process
}

/// Runs a program to completion with a deadline; output goes through temp files so that
/// neither stream can block the other.
func runProcess(_ executable: String, _ args: [String], in directory: String, env: [String: String] = [:],
                timeout: Double = 120) throws -> Outcome {
    let process = configuredProcess(executable, args, in: directory, env: env)
    let outURL = FileManager.default.temporaryDirectory.appendingPathComponent("out-\(UUID().uuidString)")
    let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("err-\(UUID().uuidString)")
    FileManager.default.createFile(atPath: outURL.path, contents: nil)
    FileManager.default.createFile(atPath: errURL.path, contents: nil)
    defer {
        try? FileManager.default.removeItem(at: outURL)
        try? FileManager.default.removeItem(at: errURL)
    }
    let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning {
        process.terminate()
        process.waitUntilExit()
        throw HarnessError(description: "\(executable) \(args.joined(separator: " ")) did not finish in \(timeout)s")
    }
    process.waitUntilExit()
    try out.close()
    try err.close()
    let stdout = String(decoding: (try? Data(contentsOf: outURL)) ?? Data(), as: UTF8.self)
    let stderr = String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self)
    return Outcome(status: process.terminationStatus, stdout: stdout, stderr: stderr)
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
