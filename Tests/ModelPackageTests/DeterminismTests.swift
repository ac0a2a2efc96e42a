import Foundation
import ModelPackage
import Testing

/// Writes a model folder at `root`: the ONNX model, a tokenizer-like JSON file and a
/// nested file, created in the order given, each with the modification time given.
private func makeModelFolder(at root: TemporaryFolder, order: [String], mtime: Date) throws -> String {
    let sources: [String: () throws -> [UInt8]] = [
        "iris.onnx": { [UInt8](try Data(contentsOf: URL(fileURLWithPath: try PackageFixtures.path("iris.onnx")))) },
        "config.json": { Array("{\"labels\": [\"setosa\", \"versicolor\", \"virginica\"]}\n".utf8) },
        "extra/notes.txt": { Array("trained on iris\n".utf8) },
        "a-b.txt": { Array("sorts before a/ by path, after it by walk\n".utf8) },
    ]
    for name in order {
        let path = try root.write("model/" + name, try sources[name]!())
        try FileManager.default.setAttributes([.modificationDate: mtime], ofItemAtPath: path)
    }
    return root.path + "/model"
}

@Suite("packages are reproducible")
struct DeterminismTests {
    @Test("two builds from copies of a folder in different places, made in another order at other times, give the same bytes")
    func sameBytesAcrossFoldersAndTimes() throws {
        let first = try TemporaryFolder()
        let second = try TemporaryFolder()
        let names = ["iris.onnx", "config.json", "extra/notes.txt", "a-b.txt"]
        let modelA = try makeModelFolder(at: first, order: names, mtime: Date(timeIntervalSince1970: 1_000_000))
        let modelB = try makeModelFolder(at: second, order: names.reversed(), mtime: Date(timeIntervalSince1970: 2_000_000_000))
        #expect(modelA != modelB)

        let builtA = try builder(modelA).build(at: first.path + "/out/package")
        let builtB = try builder(modelB).build(at: second.path + "/somewhere/else/package")
        let filesA = try contents(of: first.path + "/out/package")
        let filesB = try contents(of: second.path + "/somewhere/else/package")
        #expect(filesA.keys.sorted() == ["mlpipe-model.json", "model/a-b.txt", "model/config.json",
                                         "model/extra/notes.txt", "model/iris.onnx"])
        #expect(filesA == filesB)
        #expect(builtA.package.digest == builtB.package.digest)
        #expect(builtA.scanReport == builtB.scanReport)
        let manifest = builtA.package.manifest
        #expect(manifest.files.map(\.path) == ["model/a-b.txt", "model/config.json", "model/extra/notes.txt",
                                               "model/iris.onnx"])
        #expect(manifest.model == "model/iris.onnx")
        #expect(manifest.createdAt == "2026-11-30T12:00:00Z")
        #expect(!String(decoding: filesA["mlpipe-model.json"]!, as: UTF8.self).contains(first.path))
    }

    @Test("a single file packages under model/ by its name, and the same file elsewhere gives the same bytes")
    func singleFile() throws {
        let first = try TemporaryFolder()
        let second = try TemporaryFolder()
        let a = try first.copy(try PackageFixtures.path("iris.onnx"), to: "x/iris.onnx")
        let b = try second.copy(try PackageFixtures.path("iris.onnx"), to: "y/z/iris.onnx")
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 5)], ofItemAtPath: b)
        try builder(a).build(at: first.path + "/package")
        try builder(b).build(at: second.path + "/package")
        let filesA = try contents(of: first.path + "/package")
        #expect(filesA.keys.sorted() == ["mlpipe-model.json", "model/iris.onnx"])
        #expect(filesA == (try contents(of: second.path + "/package")))
    }

    @Test("a build replaces the package at its destination and leaves no temporary folder beside it")
    func replacesInPlace() throws {
        let folder = try TemporaryFolder()
        let model = try folder.copy(try PackageFixtures.path("iris.onnx"), to: "iris.onnx")
        try folder.write("out/package/stale.txt", Array("old".utf8))
        let built = try builder(model).build(at: folder.path + "/out/package")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path + "/out") == ["package"])
        #expect(try ModelPackage.load(at: folder.path + "/out/package").digest == built.package.digest)
    }

    @Test("a failed build leaves neither a package nor a temporary folder")
    func failureLeavesNothing() throws {
        let folder = try TemporaryFolder()
        let model = try folder.copy(try PackageFixtures.path("evil.pkl"), to: "evil.pkl")
        #expect(packageError { _ = try builder(model).build(at: folder.path + "/out/package") }?.code == .unsafeModel)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path + "/out") == [])
    }

    @Test("a link out of the model's folder is refused, a link inside it is packaged as a copy, .git is skipped")
    func links() throws {
        let folder = try TemporaryFolder()
        try folder.copy(try PackageFixtures.path("iris.onnx"), to: "model/iris.onnx")
        try folder.write("model/.git/HEAD", Array("ref: refs/heads/main\n".utf8))
        try folder.write("secret.txt", Array("outside".utf8))
        try FileManager.default.createSymbolicLink(atPath: folder.path + "/model/alias.onnx", withDestinationPath: "iris.onnx")
        let built = try builder(folder.path + "/model").build(at: folder.path + "/out/package")
        #expect(built.package.manifest.files.map(\.path) == ["model/alias.onnx", "model/iris.onnx"])
        let copied = try FileManager.default.attributesOfItem(atPath: folder.path + "/out/package/model/alias.onnx")
        #expect(copied[.type] as? FileAttributeType == .typeRegular)

        try FileManager.default.createSymbolicLink(atPath: folder.path + "/model/leak.txt",
                                                   withDestinationPath: folder.path + "/secret.txt")
        let error = packageError { _ = try builder(folder.path + "/model").build(at: folder.path + "/out/package") }
        #expect(error?.code == .unsupported)
        #expect(error?.message.hasPrefix(folder.path + "/model/leak.txt is a link to " + folder.path
                                         + "/secret.txt, outside the model's folder") == true, "\(String(describing: error))")
    }
}
