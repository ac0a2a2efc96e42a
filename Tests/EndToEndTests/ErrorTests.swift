import Foundation
import Testing

@Suite("pipeline-file errors and environment errors")
struct ErrorTests {
    @Test("every error in a pipeline file is reported at once with FILE:LINE:COL and exit 2, before anything runs")
    func allErrorsAtOnce() throws {
        let bad = """
            version: 1
            name: bad
            stages:
              a:
                run: touch ran-a
                needs: [trian]
              b:
                run: echo
                inptus: [x]
              c:
                kind: containerise
                run: echo

            """
        let repo = try TempRepo(files: ["pipelines/bad.yaml": bad])
        let result = try repo.mlpipe("run")
        #expect(result.status == 2, "\(result)")
        let errors = result.errorLines.filter { $0.hasPrefix("pipelines/bad.yaml:") }
        #expect(errors.count >= 3, "\(result)")
        #expect(errors.contains { $0.hasPrefix("pipelines/bad.yaml:6:") && $0.contains("trian") })
        #expect(errors.contains { $0.hasPrefix("pipelines/bad.yaml:9:") && $0.contains("did you mean 'inputs'") })
        #expect(errors.contains { $0.hasPrefix("pipelines/bad.yaml:11:") && $0.contains("containerise") })
        #expect(repo.read("ran-a") == nil, "nothing ran")
        #expect(try repo.mlpipe("lint").status == 2)
    }

    @Test("a cycle is printed whole")
    func cycle() throws {
        let repo = try TempRepo(files: ["pipelines/c.yaml": "version: 1\nname: c\nstages:\n  a:\n    run: x\n    needs: [c]\n  b:\n    run: x\n    needs: [a]\n  c:\n    run: x\n    needs: [b]\n"])
        let result = try repo.mlpipe("lint")
        #expect(result.status == 2)
        #expect(result.stderr.contains("a -> c -> b -> a") || result.stderr.contains("a -> b -> c -> a"), "\(result)")
    }

    @Test("outside a git repository mlpipe exits 3 and says what to do")
    func notARepository() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mlpipe-nogit-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let result = try runProcess(mlpipeBinary, ["run"], in: dir, env: ["GIT_CEILING_DIRECTORIES": FileManager.default.temporaryDirectory.path])
        #expect(result.status == 3, "\(result)")
        #expect(result.stderr.contains("git init"), "\(result)")
    }

    @Test("a workspace that cannot be written is an environment error (exit 3)")
    func unwritableWorkspace() throws {
        let repo = try basicRepo()
        try repo.write("blocker", "a file where the workspace folder should be\n")
        let result = try repo.mlpipe("run", "--workspace", repo.path("blocker/ws"))
        #expect(result.status == 3, "\(result)")
        #expect(result.stderr.contains("--workspace"), "\(result)")
    }

    @Test("usage errors exit 2")
    func usage() throws {
        let repo = try basicRepo()
        #expect(try repo.mlpipe("run", "--jobs", "0").status == 2)
        #expect(try repo.mlpipe("run", "--param", "novalue").status == 2)
        let statusParam = try repo.mlpipe("status", "--param", "novalue")
        #expect(statusParam.status == 2 && statusParam.stderr.contains("--param takes key=value, got 'novalue'"), "\(statusParam)")
        #expect(try repo.mlpipe("frobnicate").status == 2)
        let unknownParam = try repo.mlpipe("run", "--param", "factr=3")
        #expect(unknownParam.status == 2, "\(unknownParam)")
        #expect(unknownParam.stderr.contains("factor"), "\(unknownParam)")
        let unknownStage = try repo.mlpipe("run", "--only", "trian")
        #expect(unknownStage.status == 2)
        #expect(unknownStage.stderr.contains("did you mean 'train'?"))
    }

    @Test("lint counts stages in words (1 stage, 2 stages), and --jobs help states its default once")
    func wording() throws {
        let repo = try TempRepo(files: ["pipelines/one.yaml": "version: 1\nname: one\nstages:\n  a:\n    run: 'true'\n",
                                        "pipelines/two.yaml": "version: 1\nname: two\nstages:\n  a:\n    run: 'true'\n  b:\n    run: 'true'\n"])
        let lint = try repo.mlpipe("lint")
        #expect(lint.lines == ["pipelines/one.yaml: ok (1 stage)", "pipelines/two.yaml: ok (2 stages)"], "\(lint)")
        for command in ["run", "rerun"] {
            let help = try repo.mlpipe(command, "--help")
            let text = help.stdout.replacingOccurrences(of: "\n", with: " ")
                .replacingOccurrences(of: #"\s+"#, with: " ", options: .regularExpression)
            #expect(text.contains("--jobs <jobs> Stages to run at once (default: the number of cores). --"), "\(help)")
        }
        #expect(try repo.mlpipe("rerun", "--jobs", "0").status == 2)
    }

    @Test("a declared input that matches nothing is reported before anything runs")
    func missingInput() throws {
        let repo = try TempRepo(files: ["pipelines/p.yaml": "version: 1\nname: p\nstages:\n  a:\n    run: touch ran\n    inputs: [nope.txt]\n"])
        let result = try repo.mlpipe("run")
        #expect(result.status == 2, "\(result)")
        #expect(result.errorLines == ["pipelines/p.yaml:6:14: error: input 'nope.txt' of stage 'a' matches no file at commit "
            + "\(try repo.git("rev-parse", "--short=7", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)) or in the working tree; fix the path or add the file"],
                "once, at the inputs entry: \(result)")
        #expect(repo.read("ran") == nil)
        let lint = try repo.mlpipe("lint")
        #expect(lint.status == 2, "lint finds it too: \(lint)")
        #expect(lint.stderr.contains("pipelines/p.yaml:6:14: error: input 'nope.txt'"), "\(lint)")
    }

    @Test("1,000 mutated pipeline files each lint to exit 0, or exit 2 with FILE:LINE:COL: error: lines")
    func mutatedPipelines() throws {
        let repo = try TempRepo(files: [:], commit: false)
        let seeds = [basicPipeline, SchedulingTests.failing, SchedulingTests.rendezvous]
        var variants: [String] = []
        var rng = SplitMix(seed: 0x5eed)
        while variants.count < 1_000 {
            variants.append(mutate(seeds[variants.count % seeds.count], rng: &rng))
        }
        var files: [String] = []
        for (i, text) in variants.enumerated() {
            let name = "m/\(i).yaml"
            try repo.write(name, text)
            files.append(name)
        }
        // One process per file, as a user would run it; a watchdog catches hangs.
        for file in files {
            let result = try repo.mlpipe("lint", file, timeout: 20)
            #expect(result.status == 0 || result.status == 2, "\(file): \(result)")
            if result.status == 2 {
                let lines = result.errorLines
                #expect(!lines.isEmpty)
                for line in lines {
                    #expect(line.range(of: #"^m/\d+\.yaml:[1-9]\d*:[1-9]\d*: error: .+"#, options: .regularExpression) != nil,
                            "\(file): \(line)")
                }
            }
        }
    }
}

/// A small deterministic generator.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
}

/// One to three random edits of a pipeline file: lines deleted, duplicated, swapped,
/// re-indented, truncated; tokens replaced; expressions broken; junk inserted.
func mutate(_ text: String, rng: inout SplitMix) -> String {
    var lines = text.components(separatedBy: "\n")
    let tokens = ["${{", "}}", ":", "- ", "[", "]", "{", "}", "&a", "*a", "!!binary", "needs: [prepare]", "kind: nope",
                  "run: ${{ stages.x.outputs.y }}", "outputs: { a: ../x }", "timeout: soon", "retries: -1", "\t", "\"", "'",
                  "version: 2", "stages: 3", "  ", "#", "%", "@", "\u{0}", "é", "${{ params.missing }}", "needs: [train]"]
    for _ in 0...rng.below(3) {
        guard !lines.isEmpty else { break }
        let i = rng.below(lines.count)
        switch rng.below(9) {
        case 0: lines.remove(at: i)
        case 1: lines.insert(lines[i], at: i)
        case 2: lines.swapAt(i, rng.below(lines.count))
        case 3: lines[i] = String(repeating: " ", count: rng.below(7)) + lines[i].trimmingCharacters(in: .whitespaces)
        case 4: lines = Array(lines.prefix(i))
        case 5:
            var chars = Array(lines[i])
            let at = chars.isEmpty ? 0 : rng.below(chars.count)
            chars.insert(contentsOf: tokens[rng.below(tokens.count)], at: at)
            lines[i] = String(chars)
        case 6: lines[i] = lines[i].replacingOccurrences(of: "prepare", with: "prepar")
        case 7: lines.insert("  " + tokens[rng.below(tokens.count)], at: i)
        default:
            let chars = Array(lines[i])
            if !chars.isEmpty { lines[i] = String(chars.prefix(rng.below(chars.count))) }
        }
    }
    return lines.joined(separator: "\n")
}
