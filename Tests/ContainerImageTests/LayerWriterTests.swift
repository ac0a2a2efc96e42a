import Canonical
@testable import ContainerImage
import Foundation
import Testing

@Suite("reproducible layers")
struct LayerWriterTests {
    /// A small tree: nested folders, an executable, a symlink, a name past ustar's 100 bytes.
    static func makeTree(in folder: TempFolder, at name: String, fileMode: Int, time: Int) throws -> String {
        let long = String(repeating: "deep/", count: 60) + "weights.bin"   // past ustar's 255 bytes
        let files = [
            ("mlpipe-model.json", "{\"name\":\"iris\"}\n", fileMode),
            ("model/model.onnx", String(repeating: "onnx", count: 3000), fileMode),
            ("bin/serve", "#!/bin/sh\necho serve\n", fileMode | 0o111),
            (long, "long", fileMode),
        ]
        for (path, text, mode) in files {
            let file = try folder.write(name + "/" + path, text, mode: mode)
            setModificationTime(file, time)
        }
        #expect(symlink("model/model.onnx", folder.path + "/" + name + "/current") == 0)
        return folder.path + "/" + name
    }

    static func layer(of tree: String, at imagePath: String = "/model", mtime: Int64 = 1_700_000_000,
                      compression: LayerCompression = .gzip(level: 1), into folder: TempFolder,
                      name: String = UUID().uuidString) throws -> Layer {
        var contents = LayerContents()
        try contents.addTree(tree, at: imagePath)
        return try LayerWriter(mtime: mtime, compression: compression)
            .write(contents.entries, to: folder.path + "/" + name)
    }

    @Test("the same files give the same layer twice, and from two folders with other times and modes")
    func determinism() throws {
        let folder = try TempFolder()
        let first = try Self.makeTree(in: folder, at: "a", fileMode: 0o644, time: 1_000_000)
        let second = try Self.makeTree(in: folder, at: "elsewhere/b", fileMode: 0o600, time: 2_000_000_000)
        let one = try Self.layer(of: first, into: folder)
        let again = try Self.layer(of: first, into: folder)
        let other = try Self.layer(of: second, into: folder)
        #expect(one.digest == again.digest)
        #expect(one.digest == other.digest)
        #expect(one.diffID == other.diffID)
        #expect(try fileBytes(one.path) == fileBytes(other.path))
        #expect(one.mediaType == OCIMediaType.layerGzip)
        #expect(one.size == Int64(try fileBytes(one.path).count))
        #expect(one.digest == SHA256Hasher.digest(of: try fileBytes(one.path)))
        // Another mtime is another layer.
        let later = try Self.layer(of: first, mtime: 1_700_000_001, into: folder)
        #expect(later.digest != one.digest)
    }

    @Test("entries are sorted, parents first, owned by 0 with empty names, at one time, with normalised modes")
    func entries() throws {
        let folder = try TempFolder()
        let tree = try Self.makeTree(in: folder, at: "pkg", fileMode: 0o600, time: 5)
        let layer = try Self.layer(of: tree, compression: .none, into: folder)
        let listing = try TarListing(try fileBytes(layer.path))
        #expect(listing.endsProperly)
        let paths = listing.entries.map(\.path)
        #expect(paths == paths.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        #expect(Array(paths.prefix(4)) == ["model/", "model/bin/", "model/bin/serve", "model/current"])
        #expect(paths.contains("model/" + String(repeating: "deep/", count: 60) + "weights.bin"))
        for entry in listing.entries {
            #expect(entry.uid == 0 && entry.gid == 0, "\(entry.path)")
            #expect(entry.uname == "" && entry.gname == "", "\(entry.path)")
            #expect(entry.mtime == 1_700_000_000, "\(entry.path)")
        }
        let byPath = Dictionary(listing.entries.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        #expect(byPath["model/"]?.mode == 0o755)
        #expect(byPath["model/bin/serve"]?.mode == 0o755)
        #expect(byPath["model/mlpipe-model.json"]?.mode == 0o644)
        #expect(byPath["model/current"]?.type == UInt8(ascii: "2"))
        #expect(byPath["model/current"]?.linkTarget == "model/model.onnx")
        #expect(byPath["model/model/model.onnx"]?.content == Array(String(repeating: "onnx", count: 3000).utf8))
        // Every folder on the way to the long name is there, before it.
        let long = "model/" + String(repeating: "deep/", count: 60) + "weights.bin"
        #expect(byPath[long]?.fromPax == true)
        let longIndex = try #require(paths.firstIndex(of: long))
        var parent = ""
        for part in long.split(separator: "/").dropLast() {
            parent += part + "/"
            let index = try #require(paths.firstIndex(of: parent), "\(parent)")
            #expect(index < longIndex)
        }
    }

    @Test("GNU tar reads the layer back: names, modes, owners, the link and the long name")
    func gnuTarReadsIt() throws {
        let folder = try TempFolder()
        let tree = try Self.makeTree(in: folder, at: "pkg", fileMode: 0o640, time: 5)
        let layer = try Self.layer(of: tree, into: folder)
        let listing = try tool("tar", "--numeric-owner", "-tvzf", layer.path)
        let lines = listing.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("-rwxr-xr-x 0/0") && $0.hasSuffix(" model/bin/serve") })
        #expect(lines.contains { $0.hasPrefix("lrwxrwxrwx 0/0") && $0.hasSuffix(" model/current -> model/model.onnx") })
        #expect(lines.contains { $0.hasPrefix("-rw-r--r-- 0/0") && $0.hasSuffix("deep/weights.bin") })
        #expect(lines.allSatisfy { $0.contains(" 2023-11-14 22:13 ") }, "\(lines)")
        let unpacked = folder.path + "/unpacked"
        try FileManager.default.createDirectory(atPath: unpacked, withIntermediateDirectories: true)
        try tool("tar", "-xzf", layer.path, "-C", unpacked)
        #expect(try String(contentsOfFile: unpacked + "/model/" + String(repeating: "deep/", count: 60)
                           + "weights.bin", encoding: .utf8) == "long")
    }

    @Test("the gzip header has no name, time 0 and OS 255, and gunzip gives the tar of the diff_id")
    func gzipHeader() throws {
        let folder = try TempFolder()
        let tree = try Self.makeTree(in: folder, at: "pkg", fileMode: 0o644, time: 5)
        let layer = try Self.layer(of: tree, into: folder)
        let bytes = try fileBytes(layer.path)
        #expect(Array(bytes.prefix(10)) == [0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF])
        try tool("gzip", "-t", layer.path)
        try tool("sh", "-c", "gzip -dc '\(layer.path)' > '\(folder.path)/layer.tar'")
        #expect(SHA256Hasher.digest(of: try fileBytes(folder.path + "/layer.tar")) == layer.diffID)
    }

    @Test("under auto, weights that do not compress are stored as plain tar, and text is gzipped")
    func autoCompression() throws {
        let folder = try TempFolder()
        try folder.write("weights/mlpipe-model.json", "{}")
        try tool("sh", "-c", "head -c 3145728 /dev/urandom > '\(folder.path)/weights/model.safetensors'")
        let weights = try Self.layer(of: folder.path + "/weights", compression: .auto(level: 1), into: folder)
        #expect(weights.mediaType == OCIMediaType.layerTar)
        #expect(weights.digest == weights.diffID)
        let text = String(repeating: "def predict(rows): return [0 for _ in rows]\n", count: 60_000)
        try folder.write("app/main.py", text)
        let app = try Self.layer(of: folder.path + "/app", compression: .auto(level: 1), into: folder)
        #expect(app.mediaType == OCIMediaType.layerGzip)
        #expect(app.size < Int64(text.utf8.count) / 4)
    }

    @Test("a file that changed after it was listed fails the layer, naming the file, and leaves no blob")
    func changedFile() throws {
        let folder = try TempFolder()
        let file = try folder.write("pkg/model.bin", "before")
        var contents = LayerContents()
        try contents.addTree(folder.path + "/pkg", at: "/model")
        try folder.write("pkg/model.bin", "after, longer")
        let blob = folder.path + "/blob"
        #expect {
            try LayerWriter(mtime: 0).write(contents.entries, to: blob)
        } throws: { error in
            (error as? ImageError)?.code == .corrupt && "\(error)".contains(file) && "\(error)".contains("changed")
        }
        #expect(!FileManager.default.fileExists(atPath: blob))
    }

    @Test("a cancelled build stops within 64 MiB of a 1 GiB file, and the layer writer leaves no blob")
    func cancellation() async throws {
        let folder = try TempFolder()
        let big = folder.path + "/weights.bin"
        #expect(FileManager.default.createFile(atPath: big, contents: nil))
        #expect(truncate(big, 1 << 30) == 0)
        // Cancelled while the file's bytes flow: the sink cancels its task on the first piece.
        let stopped = Task { () throws -> Int in
            let sink = CancellingSink()
            do {
                try TarWriter(sink: sink, mtime: 0).appendFile("w.bin", mode: 0o644, source: big, expected: nil)
            } catch {
                #expect((error as? ImageError)?.code == .cancelled)
                return sink.total
            }
            return sink.total
        }
        #expect(try await stopped.value < 65 << 20)
        // Cancelled before it starts: no blob is left behind.
        var contents = LayerContents()
        try contents.addFile(big, at: "/model/weights.bin")
        let entries = contents.entries
        let blob = folder.path + "/blob"
        let task = Task { () throws -> Layer in
            withUnsafeCurrentTask { $0?.cancel() }
            return try LayerWriter(mtime: 0, compression: .none).write(entries, to: blob)
        }
        await #expect { try await task.value } throws: { ($0 as? ImageError)?.code == .cancelled }
        #expect(!FileManager.default.fileExists(atPath: blob))
    }

    @Test("a file is streamed: 64 MiB reaches the sink in pieces of at most 1 MiB, never as one buffer")
    func streaming() throws {
        let folder = try TempFolder()
        let big = folder.path + "/weights.bin"
        #expect(FileManager.default.createFile(atPath: big, contents: nil))
        #expect(truncate(big, 64 << 20) == 0)   // sparse zeros: no 64 MiB buffer in the test either
        let recorder = PieceRecorder()
        let tar = TarWriter(sink: recorder, mtime: 0)
        try tar.appendFile("model/weights.bin", mode: 0o644, source: big, expected: try FileStamp(path: big))
        try tar.finish()
        #expect(recorder.total == (64 << 20) + 512 + 1024)
        #expect(recorder.largest <= 1 << 20)
    }
}

/// Counts what a sink is given, and the largest single write.
final class PieceRecorder: ByteSink {
    var total = 0
    var largest = 0

    func write(_ bytes: UnsafeRawBufferPointer) throws(ImageError) {
        total += bytes.count
        largest = max(largest, bytes.count)
    }
}

/// Cancels the task that writes to it, on the first write after the header.
final class CancellingSink: ByteSink {
    var total = 0

    func write(_ bytes: UnsafeRawBufferPointer) throws(ImageError) {
        total += bytes.count
        if total > 512 { withUnsafeCurrentTask { $0?.cancel() } }
    }
}
