import Canonical
import Foundation
import Testing
@testable import ModelFormats

/// A temporary folder, removed when the value is released.
final class ScratchFolder {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("mlpipe-validate-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let file = path + "/" + name
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }

    func copy(_ source: String, to name: String) throws -> String {
        try write(name, [UInt8](try Data(contentsOf: URL(fileURLWithPath: source))))
    }
}

@Suite("model validation")
struct ModelValidatorTests {
    let validator = ModelValidator(scanner: Scanner())
    let mlpSignature = ModelSignature(inputs: [TensorSpec(name: "x", dtype: "float32", shape: [-1, 4])],
                                      outputs: [TensorSpec(name: "y", dtype: "float32", shape: [-1, 3])])

    func validate(_ path: String, _ expectations: ModelValidator.Expectations = .init()) -> ValidationReport {
        validator.validate(model: path, name: (path as NSString).lastPathComponent, base: nil, expecting: expectations)
    }

    @Test("an ONNX model with its signature, size and digest as expected passes and carries all three")
    func passes() throws {
        let path = try FormatsCorpus.path("onnx/mlp.onnx")
        let digest = try #require(Scanner().scanFile(at: path).sha256)
        let report = validate(path, .init(format: try #require(ExpectedFormat("onnx")), maxSize: 1 << 20,
                                          sha256: digest, signature: mlpSignature))
        #expect(report.passed && report.verdict == .safe, "\(report.findings)")
        #expect(report.findings == [])
        #expect(report.format == .onnx && report.sha256 == digest && report.signature == mlpSignature)
        #expect(report.size == Int64(try FormatsCorpus.bytes("onnx/mlp.onnx").count))
        #expect(report.problemLines() == [])
    }

    @Test("each expectation the model does not meet adds one finding that says what and by how much")
    func everyCheckReports() throws {
        let path = try FormatsCorpus.path("onnx/mlp.onnx")
        let wrongDigest = "sha256:" + String(repeating: "0", count: 64)
        let other = ModelSignature(inputs: [TensorSpec(name: "x", dtype: "float64", shape: [-1, 4])], outputs: [])
        let report = validate(path, .init(format: try #require(ExpectedFormat("safetensors")), maxSize: 100,
                                          sha256: wrongDigest, signature: other))
        let size = try FormatsCorpus.bytes("onnx/mlp.onnx").count
        let digest = try #require(report.sha256)
        #expect(!report.passed && report.verdict == .invalid)
        #expect(report.findings.map(\.kind) == ["format-mismatch", "too-large", "digest-mismatch", "signature-mismatch"])
        #expect(report.problemLines() == [
            "mlp.onnx: invalid: expected safetensors, but the bytes are onnx",
            "mlp.onnx: invalid: the model is \(size) bytes, over max_size 100",
            "mlp.onnx: invalid: the model's digest is \(digest), expected \(wrongDigest)",
            "mlp.onnx: invalid: input 'x' has dtype float32, expected float64",
        ])
    }

    @Test("format families: a pickle satisfies pytorch and joblib, not onnx")
    func families() throws {
        let pickle = try PickleCorpus.path("benign/logistic_p4.pkl")
        for name in ["auto", "pickle", "joblib", "pytorch", "PyTorch"] {
            #expect(validate(pickle, .init(format: try #require(ExpectedFormat(name)))).passed, "\(name)")
        }
        #expect(!validate(pickle, .init(format: try #require(ExpectedFormat("onnx")))).passed)
        #expect(ExpectedFormat("onx") == nil)
    }

    @Test("bytes of no known format fail unless format unknown is declared, and then a pickle is a mismatch")
    func unknownFormat() throws {
        let scratch = try ScratchFolder()
        let text = try scratch.write("model.txt", Array("tree 0: leaf=0.5\n".utf8))
        let plain = validate(text)
        #expect(plain.verdict == .unknown && !plain.passed)
        #expect(plain.problemLines() == ["model.txt: unknown: the bytes are no model format mlpipe knows; "
                                         + "declare format: unknown to accept a format it cannot read"])
        let declared = validate(text, .init(format: try #require(ExpectedFormat("unknown"))))
        #expect(declared.passed, "\(declared.findings)")
        let pickle = try PickleCorpus.path("benign/logistic_p4.pkl")
        let disguised = validate(pickle, .init(format: try #require(ExpectedFormat("unknown"))))
        #expect(disguised.problemLines() == ["logistic_p4.pkl: invalid: expected unknown, but the bytes are pickle"])
    }

    @Test("in a folder, files of no known format beside a model do not count: ONNX with external data passes")
    func folderWithExternalData() throws {
        let folder = try FormatsCorpus.path("onnx/external_inside")
        let report = validator.validate(model: folder, name: "external_inside", base: folder,
                                        expecting: .init(format: try #require(ExpectedFormat("onnx")),
                                                         signature: mlpSignature))
        #expect(report.passed, "\(report.problemLines())")
        #expect(report.files.map(\.path) == ["model.onnx", "weights.bin"])
        #expect(report.files.map(\.format) == [.onnx, .unknown])
        #expect(report.format == .onnx && report.sha256 == nil && report.signature == mlpSignature)
    }

    @Test("an unsafe file anywhere in a folder fails the model, and its finding is the first line")
    func unsafeInFolder() throws {
        let scratch = try ScratchFolder()
        _ = try scratch.copy(try FormatsCorpus.path("onnx/mlp.onnx"), to: "model.onnx")
        _ = try scratch.copy(try PickleCorpus.path("malicious/inst_eval.pkl"), to: "preprocess/scaler.pkl")
        let report = validator.validate(model: scratch.path, name: "model", base: scratch.path,
                                        expecting: .init(maxSize: 10, sha256: "sha256:" + String(repeating: "a", count: 64)))
        #expect(report.verdict == .unsafe)
        let lines = report.problemLines()
        #expect(lines.first?.hasPrefix("preprocess/scaler.pkl: unsafe: ") == true, "\(lines)")
        #expect(lines.suffix(2).map { $0.prefix(40) } == [
            "model: invalid: the model is \(report.size) bytes, over max_size 10".prefix(40),
            "model: invalid: sha256 checks a single file, but model is a folder; name the model file itself".prefix(40),
        ])
    }

    @Test("a missing path, an empty folder and a folder of unknown files are not models")
    func notModels() throws {
        let scratch = try ScratchFolder()
        #expect(validate(scratch.path + "/nope.pkl").problemLines()
            == ["nope.pkl: invalid: the model nope.pkl does not exist; check the path, or the stage that should write it"])
        try FileManager.default.createDirectory(atPath: scratch.path + "/empty", withIntermediateDirectories: true)
        #expect(validate(scratch.path + "/empty").problemLines() == ["empty: invalid: the folder empty holds no files"])
        try scratch.write("notes/a.txt", Array("hello\n".utf8))
        let notes = validate(scratch.path + "/notes")
        #expect(notes.verdict == .unknown)
        #expect(notes.problemLines() == ["notes: unknown: no file in notes is a model format mlpipe knows; "
                                         + "declare format: unknown to accept a format it cannot read"])
        #expect(validate(scratch.path + "/notes", .init(format: try #require(ExpectedFormat("unknown")))).passed)
    }

    @Test("the report encodes as JSON with every key, and lists the globals allow added")
    func json() throws {
        let allowing = ModelValidator(scanner: Scanner(policy: .default.allowing(["mypkg.*"])))
        let report = allowing.validate(model: try FormatsCorpus.path("onnx/mlp.onnx"), name: "mlp.onnx", base: nil,
                                       expecting: .init())
        let object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as? [String: Any])
        #expect(Set(object.keys) == ["model", "verdict", "passed", "format", "size", "sha256", "signature",
                                     "findings", "files", "allowed"])
        #expect(object["allowed"] as? [String] == ["mypkg.*"])
        #expect(object["passed"] as? Bool == true)
    }
}
