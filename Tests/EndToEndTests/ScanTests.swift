import Foundation
import Testing

/// Writes model files into `repo` with Python's own pickle and zipfile modules, so that
/// the bytes are what a real `pickle.dumps` and a real zip writer produce.
///
/// Protocol 2 is pinned so that byte offsets do not move between Python versions.
/// `os.system` pickles as `posix.system` on Linux.
func writeModels(in repo: TempRepo, _ body: String) throws {
    let script = """
        import os, pickle, sys, types, zipfile
        class Evil:
            def __reduce__(self):
                return (os.system, ('true',))
        def dump(path, value):
            os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
            with open(path, 'wb') as f:
                f.write(pickle.dumps(value, protocol=2))
        def torch_zip(path, payload):
            os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
            with zipfile.ZipFile(path, 'w') as z:
                z.writestr('model/data.pkl', pickle.dumps(payload, protocol=2))
                z.writestr('model/version', '3\\n')
        def custom_class(module, name):
            parts = module.split('.')
            for i in range(len(parts)):
                sys.modules.setdefault('.'.join(parts[:i + 1]), types.ModuleType('.'.join(parts[:i + 1])))
            cls = type(name, (), {})
            cls.__module__ = module
            setattr(sys.modules[module], name, cls)
            return cls()

        """ + body
    let python = ProcessInfo.processInfo.environment["MLPIPE_PYTHON"] ?? "/usr/bin/env"
    let arguments = python == "/usr/bin/env" ? ["python3", "-c", script] : ["-c", script]
    let result = try runProcess(python, arguments, in: repo.root)
    guard result.status == 0 else { throw HarnessError(description: "python failed: \(result)") }
}

@Suite("mlpipe scan")
struct ScanTests {
    @Test("a folder is walked in order, each file gets its verdict and findings, and an unsafe file exits 1")
    func folderWithUnsafeFile() throws {
        let repo = try TempRepo()
        try writeModels(in: repo, """
            dump('models/evil.pkl', Evil())
            dump('models/good.pkl', {'weights': [1.0, 2.0]})
            torch_zip('models/sub/model.pt', Evil())
            """)
        let result = try repo.mlpipe("scan", "models")
        #expect(result.status == 1, "\(result)")
        #expect(result.lines == [
            "models/evil.pkl: unsafe (pickle)",
            "  unsafe: GLOBAL imports posix.system, which runs code or commands (at byte 2)",
            "models/good.pkl: safe (pickle)",
            "models/sub/model.pt: unsafe (pytorch-zip)",
            "  unsafe: GLOBAL imports posix.system, which runs code or commands (at byte 2 in model/data.pkl)",
            "scanned 3 files: 1 safe, 2 unsafe",
        ], "\(result)")
        #expect(result.stderr == "")
    }

    @Test("only safe files exit 0")
    func safeFilesPass() throws {
        let repo = try TempRepo()
        try writeModels(in: repo, """
            dump('a.pkl', {'coef': [0.5, 1.5], 'classes': ('x', 'y')})
            torch_zip('b.pt', {'layer': [1, 2, 3]})
            """)
        let result = try repo.mlpipe("scan", "a.pkl", "b.pt")
        #expect(result.status == 0, "\(result)")
        #expect(result.lines == ["a.pkl: safe (pickle)", "b.pt: safe (pytorch-zip)", "scanned 2 files: 2 safe"])
    }

    @Test("--json prints one object per file with path, format, verdict and each finding's global, opcode, offset and member")
    func json() throws {
        let repo = try TempRepo()
        try writeModels(in: repo, """
            torch_zip('model.pt', Evil())
            dump('good.pkl', [1, 2])
            """)
        let result = try repo.mlpipe("scan", "--json", "model.pt", "good.pkl")
        #expect(result.status == 1, "\(result)")
        let objects = try result.lines.map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(objects.map { $0["path"] as? String } == ["model.pt", "good.pkl"])
        #expect(objects.map { $0["format"] as? String } == ["pytorch-zip", "pickle"])
        #expect(objects.map { $0["verdict"] as? String } == ["unsafe", "safe"])
        let findings = try #require(objects.first?["findings"] as? [[String: Any]])
        #expect(findings.count == 1)
        #expect(findings.first?["global"] as? String == "posix.system")
        #expect(findings.first?["opcode"] as? String == "GLOBAL")
        #expect(findings.first?["offset"] as? Int == 2)
        #expect(findings.first?["member"] as? String == "model/data.pkl")
        #expect((objects.last?["findings"] as? [Any])?.isEmpty == true)
        #expect((objects.last?["sha256"] as? String)?.hasPrefix("sha256:") == true)
    }

    @Test("--allow makes a named global safe, and only that global")
    func allow() throws {
        let repo = try TempRepo()
        try writeModels(in: repo, "dump('net.pkl', custom_class('mypkg.models', 'Net'))")
        let denied = try repo.mlpipe("scan", "net.pkl")
        #expect(denied.status == 1)
        #expect(denied.lines.contains("  unsafe: GLOBAL imports mypkg.models.Net, which is not in the allow-list (at byte 2)"),
                "\(denied)")
        let allowed = try repo.mlpipe("scan", "--allow", "mypkg.models.Net", "net.pkl")
        #expect(allowed.status == 0, "\(allowed)")
        #expect(allowed.lines == ["net.pkl: safe (pickle)", "scanned 1 file: 1 safe"])
        let other = try repo.mlpipe("scan", "--allow", "mypkg.models.Other", "net.pkl")
        #expect(other.status == 1, "\(other)")
    }

    @Test("an --allow entry that could never match is a usage error, exit 2")
    func badAllow() throws {
        let repo = try TempRepo()
        try writeModels(in: repo, "dump('a.pkl', 1)")
        let result = try repo.mlpipe("scan", "--allow", "os", "a.pkl")
        #expect(result.status == 2, "\(result)")
        #expect(result.errorLines.first == "Error: --allow 'os' is not module.name or module.*; "
                + "name the global with its module, for example 'mypkg.models.Net' or 'mypkg.*'")
        #expect(result.stdout == "")
    }

    @Test("a path that does not exist is a usage error (exit 2), and an empty folder is an error (exit 1)")
    func missingAndEmpty() throws {
        let repo = try TempRepo()
        try FileManager.default.createDirectory(atPath: repo.path("empty"), withIntermediateDirectories: true)
        let missing = try repo.mlpipe("scan", "nope.pkl")
        #expect(missing.status == 2, "\(missing)")
        #expect(missing.stdout == "")
        #expect(missing.stderr.contains("no such file or folder: nope.pkl"), "\(missing)")
        let empty = try repo.mlpipe("scan", "empty")
        #expect(empty.status == 1)
        #expect(empty.stdout == "")
        #expect(empty.stderr == "mlpipe: error: no files to scan under empty\n")
    }

    @Test("in a scanned folder, a file of no model format is skipped, not failed; --strict fails it")
    func skippedInFolder() throws {
        let repo = try TempRepo(files: ["models/readme.txt": "how to load these\n"], commit: false)
        try writeModels(in: repo, "dump('models/model.pkl', {'weights': [1, 2, 3]})")
        let result = try repo.mlpipe("scan", "models")
        #expect(result.status == 0, "\(result)")
        #expect(result.lines == [
            "models/model.pkl: safe (pickle)",
            "models/readme.txt: skipped (no model format)",
            "scanned 2 files: 1 safe, 1 skipped",
        ], "\(result)")
        let strict = try repo.mlpipe("scan", "--strict", "models")
        #expect(strict.status == 1, "\(strict)")
        #expect(strict.lines.contains("models/readme.txt: unknown (unknown)"), "\(strict)")
    }

    @Test("a file whose name claims a model format but whose bytes are not that format is invalid, saying both")
    func nameClaimsFormat() throws {
        let repo = try TempRepo(files: ["m/empty.pkl": ""], commit: false)
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]).write(to: URL(fileURLWithPath: repo.path("m/image.pt")))
        try Data([0x80, 0x09, 0x4B, 0x01, 0x2E]).write(to: URL(fileURLWithPath: repo.path("m/future.pkl")))
        let result = try repo.mlpipe("scan", "m")
        #expect(result.status == 1, "\(result)")
        #expect(result.lines == [
            "m/empty.pkl: invalid (unknown)",
            "  invalid: the name ends in .pkl (a pickle or joblib file) but the file is empty",
            "m/future.pkl: invalid (unknown)",
            "  invalid: the name ends in .pkl (a pickle or joblib file) but the bytes are a pickle header with protocol 9, which no Python writes (0 to 5)",
            "m/image.pt: invalid (unknown)",
            "  invalid: the name ends in .pt (a PyTorch file) but the bytes are a PNG image",
            "scanned 3 files: 3 invalid",
        ], "\(result)")
    }

    @Test("a file that is no model format is unknown and exits 1; a pickle named .onnx is scanned as a pickle")
    func unknownAndMisnamed() throws {
        let repo = try TempRepo(files: ["notes.txt": "just text\n"], commit: false)
        try writeModels(in: repo, "dump('model.onnx', Evil())")
        let result = try repo.mlpipe("scan", "notes.txt", "model.onnx")
        #expect(result.status == 1)
        #expect(result.lines == [
            "notes.txt: unknown (unknown)",
            "model.onnx: unsafe (pickle)",
            "  unsafe: GLOBAL imports posix.system, which runs code or commands (at byte 2)",
            "  note: the name ends in .onnx but the bytes are pickle; scanned as pickle",
            "scanned 2 files: 1 unsafe, 1 unknown",
        ], "\(result)")
    }

    @Test("a zip of 2,048 tensors is scanned in flat memory: the pages of each member are handed back")
    func manyMembersFlatMemory() throws {
        let repo = try TempRepo()
        // 2,048 stored 64 KiB tensors: reading the first bytes of each maps a 64 KiB
        // window of the cached file, 128 MiB in all if nothing were handed back.
        try writeModels(in: repo, """
            with zipfile.ZipFile('many.pt', 'w') as z:
                z.writestr('archive/data.pkl', pickle.dumps({'step': 1}, protocol=2))
                for i in range(2048):
                    z.writestr(f'archive/data/{i}', bytes(65536))
                z.writestr('archive/version', '3\\n')
            dump('small.pkl', {'step': 1})
            """)
        func peakKiB(_ file: String) throws -> Int {
            let measure = """
                import resource, subprocess, sys
                subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
                print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
                """
            let result = try runProcess("/usr/bin/env", ["python3", "-c", measure, mlpipeBinary, "scan", file],
                                        in: repo.root)
            guard result.status == 0, let kib = Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw HarnessError(description: "measuring \(file) failed: \(result)")
            }
            return kib
        }
        let small = try peakKiB("small.pkl")
        let many = try peakKiB("many.pt")
        #expect(many - small < 24 << 10, "small.pkl \(small) KiB, many.pt \(many) KiB")
    }
}

