import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A temporary folder, removed when the value goes away.
final class TempFolder: Sendable {
    let path: String

    init(_ label: String = "image") throws {
        let base = FileManager.default.temporaryDirectory.path + "/mlpipe-\(label)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        path = base
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes `text` at `relative` (folders created), with `mode`.
    @discardableResult
    func write(_ relative: String, _ text: String, mode: Int = 0o644) throws -> String {
        try write(relative, bytes: Array(text.utf8), mode: mode)
    }

    @discardableResult
    func write(_ relative: String, bytes: [UInt8], mode: Int = 0o644) throws -> String {
        let file = path + "/" + relative
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        guard chmod(file, mode_t(mode)) == 0 else { throw ToolError(description: "chmod \(file)") }
        return file
    }
}

struct ToolError: Error, CustomStringConvertible {
    var description: String
}

/// What a program printed and how it ended.
struct ToolOutcome {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a program found on the PATH to completion, with a deadline, and reaps it by its
/// own pid (Foundation's Process can miss an exit when tests spawn concurrently).
func runTool(_ program: String, _ arguments: [String], timeout: Double = 120) throws -> ToolOutcome {
    let folder = try TempFolder("tool")
    let out = folder.path + "/out", err = folder.path + "/err"
    let outFD = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    let errFD = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    defer { close(outFD); close(errFD) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_adddup2(&actions, outFD, 1)
    posix_spawn_file_actions_adddup2(&actions, errFD, 2)
    let argv = ([program] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let code = posix_spawnp(&pid, program, &actions, nil, argv, environ)
    guard code == 0 else { throw ToolError(description: "cannot start \(program): \(String(cString: strerror(code)))") }
    let deadline = Date().addingTimeInterval(timeout)
    var status: Int32 = 0
    while true {
        let reaped = waitpid(pid, &status, WNOHANG)
        if reaped == pid { break }
        if Date() >= deadline {
            kill(pid, SIGKILL)
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            throw ToolError(description: "\(program) \(arguments.joined(separator: " ")) did not finish in \(timeout)s")
        }
        usleep(5_000)
    }
    let read = { (path: String) in String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data(), as: UTF8.self) }
    return ToolOutcome(status: (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f),
                       stdout: read(out), stderr: read(err))
}

/// Runs a program that must succeed and returns its standard output.
@discardableResult
func tool(_ program: String, _ arguments: String...) throws -> String {
    let outcome = try runTool(program, arguments)
    guard outcome.status == 0 else {
        throw ToolError(description: "\(program) \(arguments.joined(separator: " ")) exited \(outcome.status): "
                        + outcome.stderr)
    }
    return outcome.stdout
}

/// Makes a base image layout with umoci: one layer with /etc/base.txt, PATH and Cmd set.
func makeBaseLayout(in folder: TempFolder, tag: String = "base") throws -> String {
    let layout = folder.path + "/base"
    if FileManager.default.fileExists(atPath: layout) { return layout }
    let file = try folder.write("base-src/base.txt", "from the base\n")
    try tool("umoci", "init", "--layout", layout)
    try tool("umoci", "new", "--image", layout + ":" + tag)
    try tool("umoci", "insert", "--image", layout + ":" + tag, file, "/etc/base.txt")
    try tool("umoci", "config", "--image", layout + ":" + tag, "--architecture", "amd64", "--os", "linux",
             "--config.env", "PATH=/usr/bin:/bin", "--config.env", "PORT=1", "--config.cmd", "sh")
    return layout
}

func fileBytes(_ path: String) throws -> [UInt8] {
    Array(try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// Sets a file's modification time.
func setModificationTime(_ path: String, _ seconds: Int) {
    var times = [timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 0)]
    utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW)
}
