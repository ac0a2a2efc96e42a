import Canonical
import Foundation
import Testing
@testable import ModelFormats

/// Generated mutations of the corpus's pickles and archives, scanned from memory.
///
/// A mutation may turn a malicious pickle into an invalid one, or into one that no longer
/// imports anything: an edit that swallows `STACK_GLOBAL` into a string, or truncates the
/// stream before the call, leaves a pickle Python loads without importing a thing. So a
/// mutant the scanner calls `safe` is handed to Python's own unpickler, with a
/// `find_class` that allows only plain containers (a few the default policy allows) and
/// records anything else: if Python would import another global, the scanner missed it. Any mutation of any file must finish,
/// deterministically, within the scanner's limits.
@Suite("pickle and archive mutations")
struct PickleFuzzTests {
    let scanner = ModelFormats.Scanner(computeDigest: false)

    /// What Python's unpickler imports first from each pickle, or nil when it imports
    /// nothing but plain containers before it finishes or fails.
    static func pythonImports(_ pickles: [[UInt8]]) throws -> [String?] {
        guard !pickles.isEmpty else { return [] }
        let input = FileManager.default.temporaryDirectory
            .appendingPathComponent("mlpipe-mutants-\(UUID().uuidString.prefix(8)).json")
        defer { try? FileManager.default.removeItem(at: input) }
        try JSONEncoder().encode(pickles.map { $0.map { String(format: "%02x", $0) }.joined() }).write(to: input)
        let oracle = """
            import io, json, pickle, sys, collections
            PLAIN = {('collections', 'OrderedDict'), ('collections', 'Counter'), ('builtins', 'dict'), ('builtins', 'list'),
                     ('builtins', 'tuple'), ('builtins', 'set'), ('builtins', 'frozenset'),
                     ('builtins', 'str'), ('builtins', 'int'), ('builtins', 'float'), ('builtins', 'bytes'),
                     ('__builtin__', 'set'), ('__builtin__', 'frozenset'), ('copy_reg', '_reconstructor')}
            class Found(Exception):
                pass
            class Recorder(pickle.Unpickler):
                def find_class(self, module, name):
                    if (module, name) in PLAIN:
                        return super().find_class(module, name)
                    raise Found(module + '.' + name)
            result = []
            for text in json.load(open(sys.argv[1])):
                data = io.BytesIO(bytes.fromhex(text))
                found = None
                try:
                    while data.tell() < len(data.getbuffer()):
                        Recorder(data).load()
                except Found as exc:
                    found = str(exc)
                except Exception:
                    pass
                result.append(found)
            print(json.dumps(result))
            """
        let output = try PickleCorpus.runPython(["-c", oracle, input.path])
        return try JSONDecoder().decode([String?].self, from: Data(output.utf8))
    }

    @Test("no mutation of a malicious pickle is safe while Python would still import something",
          .timeLimit(.minutes(2)))
    func maliciousPicklesStayCaught() throws {
        let cases = try PickleCorpus.cases().filter { $0.verdict == "unsafe" && $0.format == "pickle" }
        #expect(cases.count > 30)
        var rng = SplitMix64(state: 0xBAD_F00D)
        var safeMutants: [(String, [UInt8])] = []
        var caught = 0, total = 0
        for item in cases {
            let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try PickleCorpus.path(item.file))))
            guard original.count <= 64 << 10 else { continue }
            for round in 0..<150 {
                var bytes = original
                for _ in 0..<Int.random(in: 1...3, using: &rng) { bytes = mutate(bytes, using: &rng) }
                let report = bytes.withUnsafeBytes { scanner.scan(bytes: $0, path: item.file) }
                total += 1
                if report.verdict == .safe {
                    safeMutants.append(("\(item.file) round \(round)", bytes))
                } else {
                    caught += 1
                }
            }
        }
        let imports = try Self.pythonImports(safeMutants.map(\.1))
        for ((label, bytes), imported) in zip(safeMutants, imports) {
            let hex = bytes.map { String(format: "%02x", $0) }.joined()
            #expect(imported == nil, "\(label): the scanner says safe, Python imports \(imported ?? "-"): \(hex)")
        }
        // Nearly every edit leaves the payload readable or breaks the stream.
        #expect(caught > total * 9 / 10, "\(caught) of \(total)")
    }

    @Test("mutations of every corpus file never crash the scanner and give the same report twice",
          .timeLimit(.minutes(2)))
    func mutationsNeverCrash() throws {
        var rng = SplitMix64(state: 0x5EED)
        for item in try PickleCorpus.cases() {
            let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try PickleCorpus.path(item.file))))
            guard original.count <= 256 << 10 else { continue }
            for _ in 0..<30 {
                var bytes = original
                for _ in 0..<Int.random(in: 1...3, using: &rng) { bytes = mutate(bytes, using: &rng) }
                let first = bytes.withUnsafeBytes { scanner.scan(bytes: $0, path: item.file) }
                let second = bytes.withUnsafeBytes { scanner.scan(bytes: $0, path: item.file) }
                #expect(first.findings == second.findings && first.verdict == second.verdict, "\(item.file)")
            }
        }
    }
}
