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

    /// Writes `bytes` to a file under `work/` and returns its absolute path.
    @discardableResult
    func write(_ path: String, bytes: [UInt8]) throws -> String {
        let full = folder + "/work/" + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: full))
        return full
    }

    /// `count` bytes that differ from file to file with `seed`: content over the
    /// store's copy threshold without the cost of randomness.
    static func bytes(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
    }

    /// Appends `text` to the file at `path` as a careless user (or root) would:
    /// making it writable first if it is not.
    static func append(_ text: String, to path: String) throws {
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }

    /// Bytes the tree at `path` takes on disk, as `du` counts them: allocated
    /// blocks, each inode once however many links to it the tree holds.
    static func diskUsage(_ path: String) throws -> Int64 {
        var seen = Set<UInt64>()
        var total: Int64 = 0
        func walk(_ path: String) throws {
            var info = stat()
            guard lstat(path, &info) == 0 else { return }
            if seen.insert(UInt64(info.st_ino)).inserted { total += Int64(info.st_blocks) * 512 }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                for name in try FileManager.default.contentsOfDirectory(atPath: path) { try walk(path + "/" + name) }
            }
        }
        try walk(path)
        return total
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
