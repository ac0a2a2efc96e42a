import Foundation
import Testing
@testable import GitState

/// A real git repository in a fresh temporary folder, driven with the `git` CLI,
/// removed when the value goes away.
final class TemporaryRepository {
    /// The repository's root, with symbolic links resolved (as libgit2 reports it).
    let root: String

    init(commit files: [String: String] = [:]) throws {
        let base = FileManager.default.temporaryDirectory
            .appendingPathComponent("gitstate-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        root = URL(fileURLWithPath: base).resolvingSymlinksInPath().path
        try git("init", "-q", "-b", "main")
        try git("config", "user.name", "Test")
        try git("config", "user.email", "test@example.com")
        try git("config", "commit.gpgsign", "false")
        if !files.isEmpty {
            for (path, content) in files { try write(path, content) }
            try commitAll("initial")
        }
    }

    deinit {
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Runs git in the repository (or `directory`) and returns its trimmed output.
    @discardableResult
    func git(_ arguments: String..., in directory: String? = nil) throws -> String {
        try TemporaryRepository.run(["git"] + arguments, in: directory ?? root)
    }

    static func run(_ arguments: [String], in directory: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var environment = ProcessInfo.processInfo.environment
        environment["GIT_CONFIG_NOSYSTEM"] = "1"
        environment["LC_ALL"] = "C"
        process.environment = environment
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CommandFailed(command: arguments.joined(separator: " "),
                                output: String(decoding: errorData, as: UTF8.self))
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    struct CommandFailed: Error, CustomStringConvertible {
        var command: String
        var output: String
        var description: String { "`\(command)` failed: \(output)" }
    }

    /// Writes `content` to the repository-relative `path`, creating folders.
    func write(_ path: String, _ content: String) throws {
        let url = URL(fileURLWithPath: root).appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(content.utf8).write(to: url)
    }

    func remove(_ path: String) throws {
        try FileManager.default.removeItem(atPath: root + "/" + path)
    }

    func commitAll(_ message: String) throws {
        try git("add", "-A")
        try git("commit", "-q", "-m", message)
    }

    func open() throws -> GitRepository {
        try GitRepository.discover(from: root)
    }
}
