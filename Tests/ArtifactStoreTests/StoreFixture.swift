import Foundation
@testable import ArtifactStore

/// A temporary folder holding a store (`objects/`) and files to store (`work/`).
final class StoreFixture {
    let folder: String
    let store: LocalArtifactStore

    init(hardLinksSources: Bool = true) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder + "/work", withIntermediateDirectories: true)
        store = try LocalArtifactStore(root: folder + "/objects", hardLinksSources: hardLinksSources)
    }

    deinit {
        // Stored files are read-only; make them writable so they can be removed.
        _ = try? Self.run(["chmod", "-R", "u+w", folder])
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Writes a file under `work/` and returns its absolute path.
    @discardableResult
    func write(_ path: String, _ content: String, executable: Bool = false) throws -> String {
        let full = folder + "/work/" + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(content.utf8).write(to: URL(fileURLWithPath: full))
        if executable { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: full) }
        return full
    }

    func read(_ path: String) throws -> String {
        try String(contentsOfFile: path, encoding: .utf8)
    }

    func temporaryFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: store.root + "/tmp")
    }

    static func inode(_ path: String) throws -> UInt64 {
        (try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? NSNumber)?.uint64Value ?? 0
    }

    static func permissions(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// The digest `sha256sum` computes, as `sha256:<hex>`.
    static func sha256sum(_ path: String) throws -> String {
        "sha256:" + String(try run(["sha256sum", path]).prefix(64))
    }
}
