import Canonical
import Foundation
import Testing
@testable import ModelFormats

@Suite("scan reports")
struct ScannerReportTests {
    @Test("a report carries the file's sha256 as the object store names it, and its size")
    func digest() throws {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("mlpipe-report-\(UUID().uuidString.prefix(8)).bin").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data("abc".utf8).write(to: URL(fileURLWithPath: path))
        let report = ModelFormats.Scanner().scanFile(at: path)
        #expect(report.sha256 == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(report.size == 3)
        #expect(report.format == .unknown && report.verdict == .unknown)
        #expect(ModelFormats.Scanner(computeDigest: false).scanFile(at: path).sha256 == nil)
    }

    @Test("a path that does not exist is invalid and says so")
    func missing() {
        let reports = ModelFormats.Scanner().scan(paths: ["/nonexistent/model.pkl"])
        #expect(reports.map(\.verdict) == [.invalid])
        #expect(reports.first?.findings.map(\.message) == ["/nonexistent/model.pkl does not exist"])
    }

    @Test("a report encodes every finding key, absent ones as null")
    func jsonKeys() throws {
        let report = FileReport(path: "m.pkl", format: .pickle, verdict: .unsafe, size: 9, sha256: nil,
                                findings: [Finding(kind: "unsafe-global", verdict: .unsafe, message: "m",
                                                   global: "os.system", opcode: "REDUCE", offset: 7)])
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let text = String(decoding: try encoder.encode(report), as: UTF8.self)
        #expect(text == #"{"findings":[{"global":"os.system","kind":"unsafe-global","member":null,"#
                + #""message":"m","offset":7,"opcode":"REDUCE","verdict":"unsafe"}],"format":"pickle","#
                + #""path":"m.pkl","sha256":null,"signature":null,"size":9,"verdict":"unsafe"}"#)
        #expect(try JSONDecoder().decode(FileReport.self, from: Data(text.utf8)).findings == report.findings)
    }
}

