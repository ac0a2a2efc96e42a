import Canonical
import Foundation
import ModelFormats
import ModelPackage
import Testing

/// Writes the validate report of `model` (as `kind: validate` does) to `path`.
private func writeReport(of model: String, to path: String, allow: [String] = []) throws {
    let scanner = ModelFormats.Scanner(policy: ScanPolicy.default.allowing(allow))
    let report = ModelValidator(scanner: scanner).validate(model: model, name: (model as NSString).lastPathComponent,
                                                           base: nil, expecting: .init())
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    try encoder.encode(report).write(to: URL(fileURLWithPath: path))
}

@Suite("only safe models are packaged")
struct SafetyTests {
    @Test("an unsafe pickle is refused with its first finding, naming the file, and nothing is written")
    func unsafePickle() throws {
        let folder = try TemporaryFolder()
        let model = try folder.copy(try PackageFixtures.path("evil.pkl"), to: "models/evil.pkl")
        var builder = builder(model)
        builder.shownModel = "models/evil.pkl"
        let error = packageError { _ = try builder.build(at: folder.path + "/package") }
        #expect(error?.code == .unsafeModel)
        #expect(error?.message.hasPrefix("models/evil.pkl: unsafe: GLOBAL imports posix.system, which runs code or "
                                         + "commands (at byte 2); the model is not packaged") == true,
                "\(String(describing: error))")
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/package"))
    }

    @Test("an unsafe file in a model folder is named by its path in the folder")
    func unsafeInFolder() throws {
        let folder = try TemporaryFolder()
        try folder.copy(try PackageFixtures.path("iris.onnx"), to: "bundle/iris.onnx")
        try folder.copy(try PackageFixtures.path("evil.pkl"), to: "bundle/extra/hook.pkl")
        var builder = builder(folder.path + "/bundle")
        builder.shownModel = "bundle"
        let error = packageError { _ = try builder.build(at: folder.path + "/package") }
        #expect(error?.message.hasPrefix("bundle/extra/hook.pkl: unsafe: GLOBAL imports posix.system") == true,
                "\(String(describing: error))")
    }

    @Test("a scikit-learn joblib model scanned safe is packaged as flavor sklearn, with its pins and no signature")
    func safeJoblib() throws {
        let folder = try TemporaryFolder()
        let model = try folder.copy(try PackageFixtures.path("iris.joblib"), to: "iris.joblib")
        var builder = builder(model)
        builder.format = try #require(ExpectedFormat("joblib"))
        let built = try builder.build(at: folder.path + "/package")
        let manifest = built.package.manifest
        #expect(manifest.flavor == .sklearn)
        #expect(manifest.format == .joblib)
        #expect(manifest.signature == nil)
        #expect(manifest.requirements == ["joblib==1.6.0", "numpy==2.4.6", "scikit-learn==1.9.1", "scipy==1.17.1",
                                          "threadpoolctl==3.8.0"])
        #expect(manifest.scan.verdict == .safe)
        #expect(manifest.scan.allow == [])
        let report = try #require(built.scanReport)
        #expect(manifest.scan.reportDigest == SHA256Hasher.digest(of: report))
        #expect(String(decoding: report, as: UTF8.self).contains("\"model\":\"model/iris.joblib\""))
    }

    @Test("a validate report is trusted for the bytes it describes: its digest and allow-list are recorded")
    func trustsReport() throws {
        let folder = try TemporaryFolder()
        let model = try folder.copy(try PackageFixtures.path("iris.onnx"), to: "iris.onnx")
        try writeReport(of: model, to: folder.path + "/report.json", allow: ["mypkg.models.Net"])
        var builder = builder(model)
        builder.report = folder.path + "/report.json"
        let built = try builder.build(at: folder.path + "/package")
        let reportBytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder.path + "/report.json")))
        #expect(built.package.manifest.scan == PackageScan(verdict: .safe, reportDigest: SHA256Hasher.digest(of: reportBytes),
                                                           allow: ["mypkg.models.Net"]))
        #expect(built.scanReport == nil)
        #expect(built.package.manifest.signature?.outputs.map(\.name) == ["label", "probabilities"])
    }

    @Test("a report that says unsafe is refused with its first finding")
    func unsafeReport() throws {
        let folder = try TemporaryFolder()
        let model = try folder.copy(try PackageFixtures.path("evil.pkl"), to: "evil.pkl")
        try writeReport(of: model, to: folder.path + "/report.json")
        var builder = builder(model)
        builder.report = folder.path + "/report.json"
        builder.shownReport = "runs/1/validate/report.json"
        let error = packageError { _ = try builder.build(at: folder.path + "/package") }
        #expect(error?.code == .unsafeModel)
        #expect(error?.message.contains("evil.pkl: unsafe: GLOBAL imports posix.system") == true)
        #expect(error?.message.hasSuffix("the model is not packaged (validate report runs/1/validate/report.json)") == true,
                "\(String(describing: error))")
    }

    @Test("a report about other bytes is refused: its safe verdict says nothing about this model")
    func reportOfAnotherModel() throws {
        let folder = try TemporaryFolder()
        let joblib = try folder.copy(try PackageFixtures.path("iris.joblib"), to: "other.joblib")
        let evil = try folder.copy(try PackageFixtures.path("evil.pkl"), to: "model.pkl")
        try writeReport(of: joblib, to: folder.path + "/report.json")
        var builder = builder(evil)
        builder.report = folder.path + "/report.json"
        builder.shownReport = "report.json"
        builder.shownModel = "model.pkl"
        let error = packageError { _ = try builder.build(at: folder.path + "/package") }
        #expect(error?.code == .reportMismatch)
        #expect(error?.message.hasPrefix("the validate report report.json is about other bytes than model.pkl: ") == true,
                "\(String(describing: error))")
    }

    @Test("allow: extends the builder's own scan and is recorded")
    func allowRecorded() throws {
        let folder = try TemporaryFolder()
        let model = try folder.copy(try PackageFixtures.path("iris.onnx"), to: "iris.onnx")
        var builder = builder(model)
        builder.allow = ["mypkg.models.Net"]
        #expect(try builder.build(at: folder.path + "/package").package.manifest.scan.allow == ["mypkg.models.Net"])
    }

    @Test("a declared format the bytes are not is refused")
    func wrongFormat() throws {
        let folder = try TemporaryFolder()
        let model = try folder.copy(try PackageFixtures.path("iris.joblib"), to: "iris.joblib")
        var builder = builder(model)
        builder.shownModel = "iris.joblib"
        builder.format = try #require(ExpectedFormat("onnx"))
        let error = packageError { _ = try builder.build(at: folder.path + "/package") }
        #expect(error?.message.hasPrefix("iris.joblib: invalid: expected onnx, but the bytes are ") == true,
                "\(String(describing: error))")
    }
}
