import Foundation
import Testing

/// What an mlpipe process pays before its own work: the libraries it loads, and
/// `--version`, which is answered before argument-parser starts (VersionFastPath).
@Suite("start-up")
struct StartupTests {
    @Test("mlpipe --version prints the version line on stdout and nothing on stderr, exit 0")
    func version() throws {
        let repo = try TempRepo()
        let result = try repo.mlpipe("--version")
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout == "0.1.0\n", "\(result)")
        #expect(result.stderr.isEmpty, "\(result)")
    }

    @Test("--version and runs never load libgit2 or libcrypto; run loads both when it needs them")
    func librariesOpenedOnFirstUse() throws {
        let repo = try basicRepo()
        // glibc's loader lists every library it opens, at start and with dlopen.
        let trace = ["LD_DEBUG": "files"]
        let run = try repo.mlpipe("run", env: trace)
        #expect(run.status == 0, "\(run)")
        #expect(loaded(run.stderr).contains { $0.hasPrefix("libgit2.so") }, "\(loaded(run.stderr))")
        #expect(loaded(run.stderr).contains { $0.hasPrefix("libcrypto.so") }, "\(loaded(run.stderr))")
        for args in [["--version"], ["runs"], ["runs", "show", "latest"]] {
            let result = try repo.mlpipe(arguments: args, env: trace)
            #expect(result.status == 0, "\(args): \(result)")
            let libraries = loaded(result.stderr)
            #expect(!libraries.contains { $0.hasPrefix("libgit2") || $0.hasPrefix("libcrypto") },
                    "mlpipe \(args.joined(separator: " ")) loaded \(libraries)")
        }
    }

    /// The file names of the libraries in an `LD_DEBUG=files` trace ("file=libz.so.1 [0];  needed by …").
    private func loaded(_ trace: String) -> [String] {
        trace.split(separator: "\n").compactMap { line in
            guard let start = line.range(of: "file=") else { return nil }
            let name = line[start.upperBound...].prefix { $0 != " " && $0 != "[" }
            return name.isEmpty ? nil : String(name)
        }
    }
}
