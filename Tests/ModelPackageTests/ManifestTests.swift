import Canonical
import Foundation
import ModelPackage
import Testing

/// A manifest with every field set, as the golden bytes below spell it.
private func sampleManifest(signature: PackageSignature? = PackageSignature(
    inputs: [PackageTensor(name: "X", datatype: .fp32, shape: [-1, 4])],
    outputs: [PackageTensor(name: "label", datatype: .int64, shape: [-1])])) -> PackageManifest {
    PackageManifest(
        name: "iris", format: .onnx, flavor: .onnx, model: "model/model.onnx",
        files: [PackageFile(path: "model/model.onnx", sha256: Digest(hex: String(repeating: "a", count: 64)), size: 1234)],
        signature: signature, requirements: ["numpy==2.4.6", "onnxruntime==1.32.0"],
        source: testSource,
        scan: PackageScan(verdict: .safe, reportDigest: Digest(hex: String(repeating: "b", count: 64)), allow: []),
        metadata: ["team": "vision", "dataset": "iris \"v2\"\n"], createdAt: "2026-11-30T12:00:00Z")
}

private let golden = """
    {
      "createdAt": "2026-11-30T12:00:00Z",
      "files": [
        {
          "path": "model/model.onnx",
          "sha256": "sha256:\(String(repeating: "a", count: 64))",
          "size": 1234
        }
      ],
      "flavor": "onnx",
      "format": "onnx",
      "metadata": {
        "dataset": "iris \\"v2\\"\\n",
        "team": "vision"
      },
      "model": "model/model.onnx",
      "name": "iris",
      "requirements": [
        "numpy==2.4.6",
        "onnxruntime==1.32.0"
      ],
      "scan": {
        "allow": [],
        "reportDigest": "sha256:\(String(repeating: "b", count: 64))",
        "verdict": "safe"
      },
      "schema": "mlpipe-model/v1",
      "signature": {
        "inputs": [
          {
            "datatype": "FP32",
            "name": "X",
            "shape": [
              -1,
              4
            ]
          }
        ],
        "outputs": [
          {
            "datatype": "INT64",
            "name": "label",
            "shape": [
              -1
            ]
          }
        ]
      },
      "source": {
        "commit": "\(String(repeating: "ab", count: 20))",
        "pipeline": "iris",
        "runId": 7,
        "stage": "package"
      }
    }

    """

@Suite("the package manifest")
struct ManifestTests {
    @Test("the manifest is named mlpipe-model.json, as the serving template reads it")
    func manifestName() {
        #expect(ModelPackage.manifestName == "mlpipe-model.json")
    }

    @Test("a manifest's bytes are fixed: keys sorted, two-space indent, a trailing newline")
    func goldenBytes() throws {
        let bytes = try sampleManifest().encoded()
        #expect(String(decoding: bytes, as: UTF8.self) == golden)
    }

    @Test("an unknown signature is written as null, not left out")
    func nullSignature() throws {
        let text = String(decoding: try sampleManifest(signature: nil).encoded(), as: UTF8.self)
        #expect(text.contains("\n  \"signature\": null,\n"))
    }

    @Test("a manifest reads back as the same value")
    func roundTrip() throws {
        let manifest = sampleManifest()
        #expect(try PackageManifest.decode(manifest.encoded(), path: "m.json") == manifest)
    }

    @Test("Python's json.dumps(indent=2, sort_keys=True) writes the same bytes, so a Python reader can check them")
    func pythonWritesTheSameBytes() throws {
        let folder = try TemporaryFolder()
        let ours = try sampleManifest().encoded()
        let path = try folder.write("m.json", ours)
        let python = ProcessInfo.processInfo.environment["MLPIPE_PYTHON"]
            ?? PackageFixtures.repositoryRoot.appendingPathComponent("workspace/venv/bin/python").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", "import json, sys; m = json.load(open(sys.argv[1], encoding='utf-8')); "
                             + "sys.stdout.write(json.dumps(m, indent=2, sort_keys=True, ensure_ascii=False) + '\\n')",
                             path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let written = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(String(decoding: written, as: UTF8.self) == String(decoding: ours, as: UTF8.self))
    }

    @Test("another schema is refused, naming the one this mlpipe reads")
    func otherSchema() throws {
        let text = golden.replacingOccurrences(of: "mlpipe-model/v1", with: "mlpipe-model/v2")
        let error = packageError { _ = try PackageManifest.decode(Array(text.utf8), path: "p/mlpipe-model.json") }
        #expect(error?.code == .corrupt)
        #expect(error?.message.hasPrefix("p/mlpipe-model.json has schema 'mlpipe-model/v2', but this mlpipe reads "
                                         + "'mlpipe-model/v1'") == true, "\(String(describing: error))")
    }

    @Test("a missing key is named by its path")
    func missingKey() throws {
        let text = golden.replacingOccurrences(of: "\"size\": 1234", with: "\"bytes\": 1234")
        let error = packageError { _ = try PackageManifest.decode(Array(text.utf8), path: "m.json") }
        #expect(error?.message.contains("key 'files[0].size' is missing") == true, "\(String(describing: error))")
    }

    @Test("createdAt is the commit's time in UTC, written without a formatter")
    func timestamps() {
        #expect(UTCTimestamp.iso8601(0) == "1970-01-01T00:00:00Z")
        #expect(UTCTimestamp.iso8601(1_796_040_000) == "2026-11-30T12:00:00Z")
        #expect(UTCTimestamp.iso8601(951_782_400) == "2000-02-29T00:00:00Z")
        #expect(UTCTimestamp.iso8601(4_107_542_399) == "2100-02-28T23:59:59Z")
        #expect(UTCTimestamp.iso8601(-1) == "1969-12-31T23:59:59Z")
    }
}
