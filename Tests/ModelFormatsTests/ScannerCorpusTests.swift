import Canonical
import Foundation
import Testing
@testable import ModelFormats

/// The pickle, joblib, numpy, PyTorch and archive fixtures, generated once per test
/// run by `Tests/Fixtures/make_pickle_corpus.py` with the venv's python, with the
/// manifest of what the scanner must say of each file.
///
/// Without the venv the tests that need it fail with "run `make venv`": the benign
/// files come from the real libraries, and a skipped test would hide that.
enum PickleCorpus {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// One file and what the scanner must report for it.
    struct Case: Decodable, Sendable, CustomTestStringConvertible {
        let file: String
        let verdict: String
        let format: String
        let global: String?
        let kind: String?
        let member: String?
        let why: String

        var testDescription: String { file }
    }

    struct Manifest: Decodable {
        let cases: [Case]
    }

    /// The repository root, found from this file's real path (a scratch package may link it).
    static let repositoryRoot: URL = {
        let path = realpath(#filePath, nil).map { pointer -> String in
            defer { free(pointer) }
            return String(cString: pointer)
        } ?? #filePath
        return URL(fileURLWithPath: path)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }()

    static var python: String {
        ProcessInfo.processInfo.environment["MLPIPE_PYTHON"]
            ?? repositoryRoot.appendingPathComponent("workspace/venv/bin/python").path
    }

    private static let generated: Result<(URL, [Case]), Failure> = generate()

    /// The corpus folder, generated on first use.
    static func folder() throws -> URL {
        try generated.get().0
    }

    static func cases() throws -> [Case] {
        try generated.get().1
    }

    static func path(_ file: String) throws -> String {
        try folder().appendingPathComponent(file).path
    }

    /// Runs a python script with arguments; returns its standard output.
    static func runPython(_ arguments: [String]) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw Failure(description: "no python at \(python); run `make venv` (or set MLPIPE_PYTHON) to generate the pickle corpus")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "\(arguments.first ?? "python") failed: \(String(decoding: err, as: UTF8.self))")
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func generate() -> Result<(URL, [Case]), Failure> {
        let script = repositoryRoot.appendingPathComponent("Tests/Fixtures/make_pickle_corpus.py")
        let output = FileManager.default.temporaryDirectory
            .appendingPathComponent("mlpipe-pickle-corpus-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.removeItem(at: output)
        do {
            _ = try runPython([script.path, output.path])
            let data = try Data(contentsOf: output.appendingPathComponent("manifest.json"))
            let manifest = try JSONDecoder().decode(Manifest.self, from: data)
            atexit { try? FileManager.default.removeItem(at: PickleCorpus.removalTarget) }
            return .success((output, manifest.cases))
        } catch let failure as Failure {
            return .failure(failure)
        } catch {
            return .failure(Failure(description: "the pickle corpus could not be generated: \(error)"))
        }
    }
}

extension PickleCorpus {
    /// Read by the `atexit` handler, which cannot capture context.
    fileprivate static var removalTarget: URL {
        FileManager.default.temporaryDirectory
            .appendingPathComponent("mlpipe-pickle-corpus-\(ProcessInfo.processInfo.processIdentifier)")
    }
}

@Suite("Scanner on the generated corpus")
struct ScannerCorpusTests {
    let scanner = ModelFormats.Scanner(computeDigest: false)

    @Test("every corpus file gets the verdict and format its manifest expects")
    func verdicts() throws {
        let cases = try PickleCorpus.cases()
        #expect(cases.count > 100)
        for item in cases {
            let report = scanner.scanFile(at: try PickleCorpus.path(item.file))
            let summary = report.findings.map { "\($0.kind) \($0.global ?? "-") @\($0.member ?? "-"): \($0.message)" }
            #expect(report.verdict.rawValue == item.verdict,
                    "\(item.file) (\(item.why)): \(report.verdict) \(summary)")
            #expect(report.format.rawValue == item.format,
                    "\(item.file) (\(item.why)): format \(report.format.rawValue)")
        }
    }

    @Test("every malicious corpus file names its global, finding kind and member")
    func globals() throws {
        for item in try PickleCorpus.cases() where item.global != nil || item.kind != nil {
            let report = scanner.scanFile(at: try PickleCorpus.path(item.file))
            let match = report.findings.first { finding in
                (item.global == nil || finding.global == item.global)
                    && (item.kind == nil || finding.kind == item.kind)
                    && (item.member == nil || finding.member == item.member)
            }
            #expect(match != nil, "\(item.file) (\(item.why)): \(report.findings.map { "\($0.kind) \($0.global ?? "-") @\($0.member ?? "-")" })")
            if let match, item.global != nil, item.kind == "unsafe-global" {
                #expect(match.opcode != nil && match.offset != nil, "\(item.file): \(match)")
            }
        }
    }

    @Test("no benign corpus file has a finding that is not informational")
    func benignFilesAreClean() throws {
        for item in try PickleCorpus.cases() where item.verdict == "safe" {
            let report = scanner.scanFile(at: try PickleCorpus.path(item.file))
            #expect(report.findings.allSatisfy { $0.verdict == .safe }, "\(item.file): \(report.findings)")
        }
    }

    @Test("a folder scan reports every corpus file once, in sorted order")
    func folderWalk() throws {
        let folder = try PickleCorpus.folder().appendingPathComponent("benign").path
        let reports = scanner.scan(paths: [folder])
        let names = reports.map { ($0.path as NSString).lastPathComponent }
        #expect(names == names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
        let expected = try PickleCorpus.cases().filter { $0.file.hasPrefix("benign/") }.count
        #expect(reports.count == expected)
    }
}
