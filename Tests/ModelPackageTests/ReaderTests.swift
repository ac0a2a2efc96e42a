import Canonical
import Foundation
import ModelPackage
import Testing

/// A package of the iris ONNX model plus a notes file, built in `folder`; its path.
private func makePackage(in folder: TemporaryFolder) throws -> String {
    try folder.copy(try PackageFixtures.path("iris.onnx"), to: "model/iris.onnx")
    try folder.write("model/docs/notes.txt", Array("iris\n".utf8))
    try builder(folder.path + "/model").build(at: folder.path + "/package")
    return folder.path + "/package"
}

@Suite("reading a package")
struct ReaderTests {
    @Test("an intact package loads, and its digest is the sha256 of the manifest's bytes")
    func intact() throws {
        let folder = try TemporaryFolder()
        let root = try makePackage(in: folder)
        let package = try ModelPackage.load(at: root)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: root + "/mlpipe-model.json")))
        #expect(package.digest == SHA256Hasher.digest(of: bytes))
        #expect(package.modelPath == root + "/model/iris.onnx")
        #expect(package.manifest.files.map(\.path) == ["model/docs/notes.txt", "model/iris.onnx"])
    }

    @Test("a changed file is caught, even when its size is the same")
    func changed() throws {
        let folder = try TemporaryFolder()
        let root = try makePackage(in: folder)
        try Data("IRIS\n".utf8).write(to: URL(fileURLWithPath: root + "/model/docs/notes.txt"))
        let error = packageError { _ = try ModelPackage.load(at: root) }
        #expect(error?.code == .corrupt)
        #expect(error?.message.contains("model/docs/notes.txt has sha256:") == true, "\(String(describing: error))")
        #expect(error?.message.contains("(changed)") == true)
        #expect(error?.message.hasPrefix("the package at \(root) does not match its manifest: ") == true)

        try Data("longer now\n".utf8).write(to: URL(fileURLWithPath: root + "/model/docs/notes.txt"))
        let resized = packageError { _ = try ModelPackage.load(at: root) }
        #expect(resized?.message.contains("model/docs/notes.txt is 11 bytes, the manifest says 5 (changed)") == true,
                "\(String(describing: resized))")
    }

    @Test("a missing file is caught")
    func missing() throws {
        let folder = try TemporaryFolder()
        let root = try makePackage(in: folder)
        try FileManager.default.removeItem(atPath: root + "/model/docs/notes.txt")
        let error = packageError { _ = try ModelPackage.load(at: root) }
        #expect(error?.message.contains("does not match its manifest: model/docs/notes.txt is missing;") == true,
                "\(String(describing: error))")
    }

    @Test("an extra file, in model/ or beside it, is caught")
    func extra() throws {
        let folder = try TemporaryFolder()
        let root = try makePackage(in: folder)
        try folder.write("package/model/docs/added.txt", Array("x".utf8))
        try folder.write("package/README", Array("x".utf8))
        let error = packageError { _ = try ModelPackage.load(at: root) }
        #expect(error?.message.contains("README is not in the manifest (an extra file); "
                                        + "model/docs/added.txt is not in the manifest (an extra file)") == true,
                "\(String(describing: error))")
    }

    @Test("a link put in a package is caught")
    func link() throws {
        let folder = try TemporaryFolder()
        let root = try makePackage(in: folder)
        try FileManager.default.removeItem(atPath: root + "/model/docs/notes.txt")
        try FileManager.default.createSymbolicLink(atPath: root + "/model/docs/notes.txt", withDestinationPath: "/etc/hostname")
        let error = packageError { _ = try ModelPackage.load(at: root) }
        #expect(error?.message.contains("model/docs/notes.txt is a link or a special file") == true,
                "\(String(describing: error))")
    }

    @Test("a manifest that names a path outside model/ is refused before any file is read")
    func pathOutside() throws {
        let folder = try TemporaryFolder()
        let root = try makePackage(in: folder)
        let path = root + "/mlpipe-model.json"
        let text = try String(contentsOfFile: path, encoding: .utf8)
            .replacingOccurrences(of: "\"model/docs/notes.txt\"", with: "\"model/../../etc/passwd\"")
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let error = packageError { _ = try ModelPackage.load(at: root) }
        #expect(error?.message.contains("has a damaged manifest: 'model/../../etc/passwd' has an empty, '.' or '..' part")
                == true, "\(String(describing: error))")
    }

    @Test("a folder without a manifest is not a package")
    func notAPackage() throws {
        let folder = try TemporaryFolder()
        #expect(packageError { _ = try ModelPackage.load(at: folder.path) }?.code == .corrupt)
        #expect(packageError { _ = try ModelPackage.load(at: folder.path + "/nothing") }?.code == .notFound)
    }
}
