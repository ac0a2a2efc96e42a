import Foundation
import ModelPackage
import Testing

/// Models made once per test run by the venv's python with the real libraries
/// (scikit-learn, skl2onnx, joblib, pickle), into a temporary folder:
///
/// - `iris.onnx`: a LogisticRegression on iris converted by skl2onnx with zipmap off:
///   X FP32 [-1, 4] -> label INT64 [-1], probabilities FP32 [-1, 3];
/// - `iris-zipmap.onnx`: the same with skl2onnx's default zipmap, whose probabilities are
///   a sequence of maps, which the Open Inference Protocol cannot carry;
/// - `iris.joblib`: the same estimator through `joblib.dump`;
/// - `evil.pkl`: a pickle whose `__reduce__` calls `os.system`.
///
/// Without the venv every test that needs one fails with "run `make venv`".
enum PackageFixtures {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static let script = """
        import os, pickle, sys
        import joblib
        from sklearn.datasets import load_iris
        from sklearn.linear_model import LogisticRegression
        from skl2onnx import convert_sklearn
        from skl2onnx.common.data_types import FloatTensorType
        out = sys.argv[1]
        X, y = load_iris(return_X_y=True)
        clf = LogisticRegression(max_iter=500).fit(X, y)
        types = [("X", FloatTensorType([None, 4]))]
        plain = convert_sklearn(clf, initial_types=types, options={id(clf): {"zipmap": False}}, target_opset=17)
        with open(os.path.join(out, "iris.onnx"), "wb") as f:
            f.write(plain.SerializeToString())
        zipmap = convert_sklearn(clf, initial_types=types, target_opset=17)
        with open(os.path.join(out, "iris-zipmap.onnx"), "wb") as f:
            f.write(zipmap.SerializeToString())
        joblib.dump(clf, os.path.join(out, "iris.joblib"))
        class Evil:
            def __reduce__(self):
                return (os.system, ("true",))
        with open(os.path.join(out, "evil.pkl"), "wb") as f:
            f.write(pickle.dumps(Evil(), protocol=2))
        """

    /// The repository root, from this file's path.
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private static let generated: Result<String, Failure> = generate()

    /// The path of a fixture.
    static func path(_ name: String) throws -> String {
        try generated.get() + "/" + name
    }

    private static func generate() -> Result<String, Failure> {
        let python = ProcessInfo.processInfo.environment["MLPIPE_PYTHON"]
            ?? repositoryRoot.appendingPathComponent("workspace/venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            return .failure(Failure(description: "no python at \(python); run `make venv` (or set MLPIPE_PYTHON)"))
        }
        let output = FileManager.default.temporaryDirectory
            .appendingPathComponent("mlpipe-package-fixtures-\(ProcessInfo.processInfo.processIdentifier)")
        do {
            try? FileManager.default.removeItem(at: output)
            try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        } catch {
            return .failure(Failure(description: "cannot create \(output.path): \(error)"))
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", script, output.path]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return .failure(Failure(description: "cannot run \(python): \(error); run `make venv`"))
        }
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            return .failure(Failure(description: "making the fixtures failed (\(process.terminationStatus)); "
                                    + "run `make venv`:\n" + String(decoding: message, as: UTF8.self)))
        }
        atexit { try? FileManager.default.removeItem(atPath: PackageFixtures.removalTarget) }
        return .success(output.path)
    }

    /// Read by the `atexit` handler, which cannot capture context.
    private static var removalTarget: String {
        FileManager.default.temporaryDirectory
            .appendingPathComponent("mlpipe-package-fixtures-\(ProcessInfo.processInfo.processIdentifier)").path
    }
}

/// A temporary folder, removed when the value goes away.
final class TemporaryFolder: @unchecked Sendable {
    // Immutable after init; each test makes its own.
    let path: String

    init() throws {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("mlpipe-package-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        path = url.resolvingSymlinksInPath().path
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes `bytes` at `relative`, creating folders.
    @discardableResult
    func write(_ relative: String, _ bytes: [UInt8]) throws -> String {
        let target = path + "/" + relative
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: target))
        return target
    }

    /// Copies the file at `source` to `relative`.
    @discardableResult
    func copy(_ source: String, to relative: String) throws -> String {
        try write(relative, [UInt8](try Data(contentsOf: URL(fileURLWithPath: source))))
    }
}

/// A source for packages built in tests.
let testSource = PackageSource(commit: String(repeating: "ab", count: 20), pipeline: "iris", stage: "package", runId: 7)

/// A builder of `model` named iris at a fixed commit time (2026-11-30T12:00:00Z).
func builder(_ model: String) -> PackageBuilder {
    var builder = PackageBuilder(model: model, name: "iris", source: testSource)
    builder.commitTime = 1_796_040_000
    return builder
}

/// Every file under `root` (relative path -> bytes), links and all.
func contents(of root: String) throws -> [String: [UInt8]] {
    var result: [String: [UInt8]] = [:]
    let enumerator = FileManager.default.enumerator(atPath: root)
    while let relative = enumerator?.nextObject() as? String {
        var isFolder: ObjCBool = false
        FileManager.default.fileExists(atPath: root + "/" + relative, isDirectory: &isFolder)
        if !isFolder.boolValue {
            result[relative] = [UInt8](try Data(contentsOf: URL(fileURLWithPath: root + "/" + relative)))
        }
    }
    return result
}

/// The error a throwing call threw, as `PackageError`.
func packageError(_ body: () throws -> Void) -> PackageError? {
    do {
        try body()
        return nil
    } catch let error as PackageError {
        return error
    } catch {
        Issue.record("expected a PackageError, got \(error)")
        return nil
    }
}
