import Foundation
import Testing
@testable import ModelFormats

/// The ONNX, safetensors and Keras fixtures, generated once per test run by
/// `Tests/Fixtures/make_formats_corpus.py` with the venv's python into a temporary folder.
///
/// Without the venv every test that needs a fixture fails with "run `make venv`": the
/// fixtures come from the real libraries, and a skipped test would hide that.
enum FormatsCorpus {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The repository root, found from this file's real path (the scratch package links it).
    static let repositoryRoot: URL = {
        let path = realpath(#filePath, nil).map { pointer -> String in
            defer { free(pointer) }
            return String(cString: pointer)
        } ?? #filePath
        return URL(fileURLWithPath: path)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }()

    private static let generated: Result<URL, Failure> = generate()

    /// The corpus folder, generated on first use.
    static func folder() throws -> URL {
        try generated.get()
    }

    /// The path of a fixture, relative to the corpus folder.
    static func path(_ relative: String) throws -> String {
        try folder().appendingPathComponent(relative).path
    }

    /// A fixture's bytes.
    static func bytes(_ relative: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: try path(relative))))
    }

    private static func generate() -> Result<URL, Failure> {
        let python = ProcessInfo.processInfo.environment["MLPIPE_PYTHON"]
            ?? repositoryRoot.appendingPathComponent("workspace/venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            return .failure(Failure(description: "no python at \(python); run `make venv` "
                                    + "(or set MLPIPE_PYTHON) to generate the format fixtures"))
        }
        let script = repositoryRoot.appendingPathComponent("Tests/Fixtures/make_formats_corpus.py")
        let output = FileManager.default.temporaryDirectory
            .appendingPathComponent("mlpipe-formats-corpus-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.removeItem(at: output)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script.path, output.path]
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
            return .failure(Failure(description: "make_formats_corpus.py failed (\(process.terminationStatus)); "
                                    + "run `make venv`:\n" + String(decoding: message, as: UTF8.self)))
        }
        atexit { try? FileManager.default.removeItem(at: FormatsCorpus.removalTarget) }
        return .success(output)
    }

    /// Read by the `atexit` handler, which cannot capture context.
    private static var removalTarget: URL {
        FileManager.default.temporaryDirectory
            .appendingPathComponent("mlpipe-formats-corpus-\(ProcessInfo.processInfo.processIdentifier)")
    }
}

/// Runs `body` over a fixture's bytes.
func withFixture<T>(_ relative: String, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T {
    let bytes = try FormatsCorpus.bytes(relative)
    return try bytes.withUnsafeBytes(body)
}

/// The worst verdict among findings, `safe` when there are none.
func worstVerdict(_ findings: [Finding]) -> Verdict {
    findings.map(\.verdict).max() ?? .safe
}

/// A deterministic pseudo-random generator (SplitMix64) for mutation tests.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// One random edit of `bytes`: flip, overwrite, insert, delete or truncate.
func mutate(_ bytes: [UInt8], in range: Range<Int>? = nil, using rng: inout SplitMix64) -> [UInt8] {
    var copy = bytes
    guard !copy.isEmpty else { return [UInt8.random(in: 0...255, using: &rng)] }
    var region = (range ?? 0..<copy.count).clamped(to: 0..<copy.count)
    if region.isEmpty { region = 0..<copy.count }
    let position = Int.random(in: region, using: &rng)
    let interesting: [UInt8] = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0x22, 0x5B, 0x7B, 0x7D, 0x2C, 0x3A, 0x30, 0x39]
    switch Int.random(in: 0..<6, using: &rng) {
    case 0: copy[position] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
    case 1: copy[position] = UInt8.random(in: 0...255, using: &rng)
    case 2: copy[position] = interesting.randomElement(using: &rng) ?? 0
    case 3: copy.insert(interesting.randomElement(using: &rng) ?? 0, at: position)
    case 4: copy.remove(at: position)
    default: copy.removeSubrange(position...)
    }
    return copy
}
