@testable import ContainerImage
import Foundation
import Testing

@Suite("layer cache")
struct LayerCacheTests {
    @Test("an unchanged layer is reused: same digest, and its blob is not written again")
    func reuse() throws {
        let folder = try TempFolder()
        try folder.write("pkg/model.onnx", String(repeating: "w", count: 100_000))
        try folder.write("pkg/mlpipe-model.json", "{}")
        let cache = LayerCache(folder: folder.path + "/cache")
        let writer = LayerWriter(mtime: 42)
        var contents = LayerContents()
        try contents.addTree(folder.path + "/pkg", at: "/model")

        let first = try cache.layer(for: contents, writer: writer)
        #expect(!first.wasReused)
        let blob = try FileStamp(path: first.layer.path)
        let second = try cache.layer(for: contents, writer: writer)
        #expect(second.wasReused)
        #expect(second.layer == first.layer)
        #expect(second.key == first.key)
        // Timing-free evidence that nothing was compressed again: the same inode, written
        // at the same nanosecond.
        let after = try FileStamp(path: second.layer.path)
        #expect(after == blob)
        // A new listing of the same files (as a new run makes) hits too.
        var again = LayerContents()
        try again.addTree(folder.path + "/pkg", at: "/model")
        #expect(try cache.layer(for: again, writer: writer).wasReused)
    }

    @Test("a changed file, mtime or compression is a new layer")
    func changes() throws {
        let folder = try TempFolder()
        try folder.write("pkg/model.onnx", "one")
        let cache = LayerCache(folder: folder.path + "/cache")
        func layer(_ writer: LayerWriter) throws -> CachedLayer {
            var contents = LayerContents()
            try contents.addTree(folder.path + "/pkg", at: "/model")
            return try cache.layer(for: contents, writer: writer)
        }
        let original = try layer(LayerWriter(mtime: 1))
        #expect(try layer(LayerWriter(mtime: 2)).key != original.key)
        #expect(try layer(LayerWriter(mtime: 1, compression: .none)).key != original.key)
        // Same size, new content: the memo's stamp (inode, size, mtime to the ns) changes.
        try folder.write("pkg/model.onnx", "two")
        let changed = try layer(LayerWriter(mtime: 1))
        #expect(!changed.wasReused)
        #expect(changed.layer.digest != original.layer.digest)
    }

    @Test("a cached layer whose blob was deleted is written again")
    func missingBlob() throws {
        let folder = try TempFolder()
        try folder.write("pkg/a.txt", "a")
        let cache = LayerCache(folder: folder.path + "/cache")
        var contents = LayerContents()
        try contents.addTree(folder.path + "/pkg", at: "/a")
        let first = try cache.layer(for: contents, writer: LayerWriter(mtime: 0))
        try FileManager.default.removeItem(atPath: first.layer.path)
        let second = try cache.layer(for: contents, writer: LayerWriter(mtime: 0))
        #expect(!second.wasReused)
        #expect(second.layer.digest == first.layer.digest)
        #expect(FileManager.default.fileExists(atPath: second.layer.path))
    }

    @Test("the file-digest memo answers for an unchanged file without reading it")
    func memo() throws {
        let folder = try TempFolder()
        let file = try folder.write("f.bin", "content")
        let memo = FileDigestMemo(folder: folder.path + "/memo")
        let stamp = try FileStamp(path: file)
        let digest = try memo.digest(of: file, stamp: stamp)
        // The memo is keyed by the stamp; a path with no file behind it is never opened.
        #expect(try memo.digest(of: folder.path + "/gone", stamp: stamp) == digest)
    }

    @Test("the requirements layer is keyed by its lines: order, comments and blanks do not matter")
    func requirementsKey() throws {
        let one = RequirementsLayer(lines: ["numpy==2.4.6", "# runtime", "", "onnxruntime==1.32.0  "], folder: "/x")
        let two = RequirementsLayer(lines: ["onnxruntime==1.32.0", "numpy==2.4.6", "numpy==2.4.6"], folder: "/x")
        #expect(one.lines == ["numpy==2.4.6", "onnxruntime==1.32.0"])
        #expect(one.key == two.key)
        #expect(RequirementsLayer(lines: ["numpy==2.4.5"], folder: "/x").key != one.key)
        let arguments = one.pipArguments(requirements: "r.txt", target: "/t")
        #expect(arguments.starts(with: ["-m", "pip", "install", "--target", "/t", "--no-compile", "--only-binary=:all:",
                                        "--python-version", "3.11"]))
        #expect(arguments.contains("manylinux_2_28_x86_64"))
    }

    @Test("the requirements layer runs pip once; the next build reuses its layer without running it")
    func requirementsCached() async throws {
        let folder = try TempFolder()
        let cache = LayerCache(folder: folder.path + "/layers")
        let requirements = RequirementsLayer(lines: ["tiny==1.0"], folder: folder.path + "/requirements")
        let runs = Counter()
        let fakePip: @Sendable ([String]) async throws -> Void = { arguments in
            await runs.increment()
            let target = arguments[arguments.firstIndex(of: "--target")! + 1]
            try Data("VALUE = 1\n".utf8).write(to: URL(fileURLWithPath: target + "/tiny.py"))
            try FileManager.default.createDirectory(atPath: target + "/bin", withIntermediateDirectories: true)
            try Data("#!/usr/bin/python3\n".utf8).write(to: URL(fileURLWithPath: target + "/bin/tiny"))
        }
        let first = try await requirements.layer(cache: cache, writer: LayerWriter(mtime: 0), run: fakePip)
        let second = try await requirements.layer(cache: cache, writer: LayerWriter(mtime: 0), run: fakePip)
        #expect(await runs.value == 1)
        #expect(!first.wasReused && second.wasReused)
        #expect(second.layer.digest == first.layer.digest)
        try tool("sh", "-c", "gzip -dc '\(first.layer.path)' > '\(folder.path)/r.tar'")
        let paths = try TarListing(try fileBytes(folder.path + "/r.tar")).entries.map(\.path)
        #expect(paths == ["opt/", "opt/mlpipe/", "opt/mlpipe/site-packages/", "opt/mlpipe/site-packages/tiny.py"])
    }

    @Test("a pip failure leaves no installed folder behind")
    func pipFails() async throws {
        let folder = try TempFolder()
        let requirements = RequirementsLayer(lines: ["missing==9"], folder: folder.path + "/requirements")
        await #expect(throws: ToolError.self) {
            try await requirements.installed { _ in throw ToolError(description: "pip exited 1") }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path + "/requirements").isEmpty)
    }
}

actor Counter {
    var value = 0
    func increment() { value += 1 }
}
