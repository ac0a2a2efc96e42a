import Foundation
import Testing

/// What a run folder may do to the store, and how run folders are pruned.
@Suite("Run folders, the object store and runs prune")
struct RunFolderTests {
    /// `train` writes `size` bytes of one letter; `use` (never cached) records the
    /// digest of what it was handed.
    static let tamperPipeline = """
        version: 1
        name: tamper
        params:
          size: 11
        stages:
          train:
            run: head -c ${{ params.size }} /dev/zero | tr '\\0' w > ${{ outputs.model }}
            outputs: { model: model.bin }
          use:
            cache: false
            run: sha256sum < ${{ stages.train.outputs.model }} | cut -c1-64 > ${{ outputs.sum }}
            outputs: { sum: sum.txt }
        """

    /// The sha256 of `size` bytes of `w`, as `use` records it.
    static func expectedSum(_ size: Int) -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("expected-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        FileManager.default.createFile(atPath: file.path, contents: Data(repeating: UInt8(ascii: "w"), count: size))
        let result = try? runProcess("/usr/bin/sha256sum", [file.path], in: "/")
        return String((result?.stdout ?? "").prefix(64))
    }

    /// The path of a stage's first output in a run, from `runs show --json`.
    static func outputPath(_ repo: TempRepo, run: String, stage: String) throws -> String {
        let outputs = try repo.stages(run)[stage]?["outputs"] as? [[String: Any]]
        return try #require(outputs?.first?["path"] as? String)
    }

    @Test("appending to a run folder's output never reaches the next run: it gets intact bytes or runs the stage again",
          arguments: [11, 2 << 20])
    func tamperedRunFolder(size: Int) throws {
        let repo = try TempRepo(files: ["pipelines/tamper.yaml": Self.tamperPipeline])
        let first = try repo.mlpipe("run", "--param", "size=\(size)")
        #expect(first.status == 0, "\(first)")
        let model = try Self.outputPath(repo, run: "1", stage: "train")

        // As a careless user or a stage running as root would: the read-only mode is no barrier.
        chmod(model, 0o644)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: model))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("tampered".utf8))
        try handle.close()

        let second = try repo.mlpipe("run", "--param", "size=\(size)")
        #expect(second.status == 0, "\(second)")
        let handedOut = try Self.outputPath(repo, run: "2", stage: "train")
        #expect(FileManager.default.contents(atPath: handedOut) == Data(repeating: UInt8(ascii: "w"), count: size))
        let sum = FileManager.default.contents(atPath: try Self.outputPath(repo, run: "2", stage: "use"))
        #expect(sum.map { String(decoding: $0, as: UTF8.self) } == Self.expectedSum(size) + "\n")
        let verify = try repo.mlpipe("cache", "verify")
        #expect(verify.status == 0, "\(verify)")
    }

    /// Bytes the tree at `path` takes on disk, as `du` counts: allocated blocks, each
    /// inode once.
    static func diskUsage(_ path: String) -> Int64 {
        var seen = Set<UInt64>()
        var total: Int64 = 0
        func walk(_ path: String) {
            var info = stat()
            guard lstat(path, &info) == 0 else { return }
            if seen.insert(UInt64(info.st_ino)).inserted { total += Int64(info.st_blocks) * 512 }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] { walk(path + "/" + name) }
            }
        }
        walk(path)
        return total
    }

    /// The first byte count mlpipe printed in `text` ("3.0 MB", "512 B"), in bytes.
    static func reportedBytes(_ text: String) -> Int64? {
        let units: [String: Double] = ["B": 1, "KB": 1e3, "kB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12]
        let words = text.split(whereSeparator: { $0 == " " || $0 == "(" || $0 == ")" || $0 == ";" || $0 == "," })
        for (index, word) in words.enumerated().dropLast() {
            if let number = Double(word), let unit = units[String(words[index + 1])] { return Int64(number * unit) }
        }
        return nil
    }

    @Test("runs prune --keep 1 then cache gc --keep-days 0 free what they report, and the pruned run stays listed")
    func pruneThenCollect() throws {
        let repo = try TempRepo(files: ["pipelines/tamper.yaml": Self.tamperPipeline])
        let size = 3_000_000
        #expect(try repo.mlpipe("run", "--param", "size=\(size)").status == 0)
        #expect(try repo.mlpipe("run", "--param", "size=\(size + 1)").status == 0)
        let workspace = repo.path("workspace")

        let prune = try repo.mlpipe("runs", "prune", "--keep", "1")
        #expect(prune.status == 0, "\(prune)")
        #expect(prune.stdout.hasPrefix("pruned 1 run (#1): freed "), "\(prune)")
        // Run 1's large output is still the object of its cache entry.
        #expect(prune.stdout.contains("3.0 MB of their outputs stay in the object store"), "\(prune)")
        #expect(!FileManager.default.fileExists(atPath: repo.path("workspace/runs/1")))
        #expect(FileManager.default.fileExists(atPath: try Self.outputPath(repo, run: "2", stage: "train")))

        let before = Self.diskUsage(workspace)
        let gc = try repo.mlpipe("cache", "gc", "--keep-days", "0")
        #expect(gc.status == 0, "\(gc)")
        let dropped = before - Self.diskUsage(workspace)
        let reported = try #require(Self.reportedBytes(gc.stdout), "\(gc)")
        // The report rounds to 0.1 MB; the database's write-ahead log grows by a few pages.
        #expect(dropped >= Int64(size) - 100_000, "du dropped by \(dropped) bytes: \(gc)")
        #expect(abs(reported - dropped) <= 100_000, "reported \(reported), du dropped by \(dropped): \(gc)")

        let listed = try repo.mlpipe("runs", "--json")
        let runs = try #require(try listed.json() as? [[String: Any]])
        #expect(runs.compactMap { $0["id"] as? Int } == [2, 1])
        #expect(runs.first { $0["id"] as? Int == 1 }?["prunedAt"] is String)
        #expect(runs.first { $0["id"] as? Int == 2 }?["prunedAt"] is NSNull)
        let shown = try repo.mlpipe("runs", "show", "1")
        #expect(shown.lines.contains { $0.hasPrefix("  folder    pruned ") }, "\(shown)")
        let logs = try repo.mlpipe("logs", "1")
        #expect(logs.status == 2, "\(logs)")
        #expect(logs.stderr.contains("the folder of run #1 was pruned on "), "\(logs)")
    }

    @Test("runs prune never removes the folder of a running run, and --dry-run removes nothing")
    func pruneSparesRunningRun() throws {
        let pipeline = """
            version: 1
            name: slow
            stages:
              wait:
                cache: false
                run: touch "$READY"; while [ ! -e "$GO" ]; do sleep 0.05; done; echo done > ${{ outputs.out }}
                outputs: { out: out.txt }
            """
        let repo = try TempRepo(files: ["pipelines/slow.yaml": pipeline])
        let ready = repo.path("ready"), go = repo.path("go")
        FileManager.default.createFile(atPath: go, contents: nil)
        #expect(try repo.mlpipe("run", env: ["READY": ready, "GO": go]).status == 0)
        try FileManager.default.removeItem(atPath: go)
        try FileManager.default.removeItem(atPath: ready)
        let running = try startProcess(mlpipeBinary, ["run"], in: repo.root, env: ["READY": ready, "GO": go])
        try waitFor("the stage to start") { FileManager.default.fileExists(atPath: ready) }

        let dry = try repo.mlpipe("runs", "prune", "--keep", "0", "--dry-run")
        #expect(dry.status == 0, "\(dry)")
        #expect(dry.stdout.hasPrefix("would prune 1 run (#1) and free "), "\(dry)")
        #expect(FileManager.default.fileExists(atPath: repo.path("workspace/runs/1")))
        let prune = try repo.mlpipe("runs", "prune", "--keep", "0")
        #expect(prune.stdout.hasPrefix("pruned 1 run (#1): "), "\(prune)")
        #expect(FileManager.default.fileExists(atPath: repo.path("workspace/runs/2")))
        let refused = try repo.mlpipe("runs", "prune", "--status", "running")
        #expect(refused.status == 2, "\(refused)")
        #expect(refused.stderr.contains("a running run is never pruned"), "\(refused)")

        FileManager.default.createFile(atPath: go, contents: nil)
        #expect(try running.finish().status == 0)
        #expect(FileManager.default.contents(atPath: repo.path("workspace/runs/2/wait/out.txt")) == Data("done\n".utf8))
        #expect(try repo.show("2")["prunedAt"] is NSNull)
    }

    @Test("runs prune says what it needs, and reads ages in days, hours or minutes")
    func pruneArguments() throws {
        let repo = try TempRepo(files: ["pipelines/tamper.yaml": Self.tamperPipeline])
        #expect(try repo.mlpipe("run").status == 0)
        let bare = try repo.mlpipe("runs", "prune")
        #expect(bare.status == 2, "\(bare)")
        #expect(bare.stderr.contains("--keep N, --older-than D or --status S"), "\(bare)")
        let badAge = try repo.mlpipe("runs", "prune", "--older-than", "3 weeks")
        #expect(badAge.status == 2, "\(badAge)")
        #expect(badAge.stderr.contains("30d, 12h or 90m"), "\(badAge)")
        for age in ["30d", "12h", "90m"] {
            let young = try repo.mlpipe("runs", "prune", "--older-than", age)
            #expect(young.stdout == "no run folders to prune\n", "\(age): \(young)")
        }
        let old = try repo.mlpipe("runs", "prune", "--older-than", "0m")
        #expect(old.stdout.hasPrefix("pruned 1 run (#1)"), "\(old)")
    }
}
