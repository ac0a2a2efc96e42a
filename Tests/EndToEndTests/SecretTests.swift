import Foundation
import Testing

@Suite("secrets")
struct SecretTests {
    static let secret = "hunter2-s3cr3t-value"

    static let pipeline = """
        version: 1
        name: s
        secrets:
          API_TOKEN: { env: MY_TOKEN }
          FILE_TOKEN: { file: token.txt }
        stages:
          use:
            run: echo "token is $API_TOKEN and $FILE_TOKEN"; echo "$API_TOKEN" > ${{ outputs.out }}; echo "fail with $API_TOKEN" >&2; exit 1
            outputs: { out: out.txt }
            secrets: [API_TOKEN, FILE_TOKEN]

        """

    @Test("secrets reach stages as environment variables and never appear in output, logs, errors or the database")
    func masked() throws {
        let repo = try TempRepo(files: ["pipelines/s.yaml": Self.pipeline, ".gitignore": "token.txt\n"])
        try repo.write("token.txt", "file-secret-42\n")
        let result = try repo.mlpipe("run", env: ["MY_TOKEN": Self.secret])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("token is *** and ***"), "\(result)")
        #expect(result.stderr.contains("fail with ***"))
        for text in [result.stdout, result.stderr] {
            #expect(!text.contains(Self.secret) && !text.contains("file-secret-42"))
        }
        let logs = try repo.mlpipe("logs", "latest", "use")
        #expect(logs.stdout.contains("token is *** and ***"), "\(logs)")
        #expect(!logs.stdout.contains(Self.secret))
        let database = try Data(contentsOf: URL(fileURLWithPath: repo.path("workspace/mlpipe.db")))
        let wal = (try? Data(contentsOf: URL(fileURLWithPath: repo.path("workspace/mlpipe.db-wal")))) ?? Data()
        for blob in [database, wal] {
            #expect(blob.range(of: Data(Self.secret.utf8)) == nil, "the secret is not in the database")
            #expect(blob.range(of: Data("file-secret-42".utf8)) == nil)
        }
        let show = try repo.mlpipe("runs", "show", "latest", "--json")
        #expect(!show.stdout.contains(Self.secret))
    }

    @Test("a secret enters the cache key by name only: a new value does not re-run a stage")
    func notInKey() throws {
        let pipeline = "version: 1\nname: k\nsecrets:\n  T: { env: T }\nstages:\n  a:\n    run: echo ok > ${{ outputs.o }}\n    outputs: { o: o.txt }\n    secrets: [T]\n"
        let repo = try TempRepo(files: ["pipelines/k.yaml": pipeline])
        #expect(try repo.mlpipe("run", env: ["T": "first-value"]).status == 0)
        #expect(try repo.mlpipe("run", env: ["T": "second-value"]).status == 0)
        #expect(try repo.statuses() == ["a": "cached"])
        let key = try repo.stages()["a"]?["cacheKey"] as? String ?? ""
        #expect(key.hasPrefix("sha256:"))
    }

    @Test("a new pipeline secret that a stage does not list leaves the stage cached")
    func unlistedSecretKeepsCache() throws {
        let before = "version: 1\nname: u\nstages:\n  a:\n    run: cat data.txt > ${{ outputs.o }}\n"
            + "    inputs: [data.txt]\n    outputs: { o: o.txt }\n"
        let repo = try TempRepo(files: ["pipelines/u.yaml": before, "data.txt": "x\n"])
        #expect(try repo.mlpipe("run").status == 0)
        let after = before.replacingOccurrences(of: "stages:", with: "secrets:\n  NEW: { env: NEW }\nstages:")
            + "  deploy:\n    run: 'true'\n    secrets: [NEW]\n"
        try repo.write("pipelines/u.yaml", after)
        try repo.commit("add a secret for a new stage")
        let second = try repo.mlpipe("run", env: ["NEW": "new-value"])
        #expect(second.status == 0, "\(second)")
        #expect(try repo.statuses() == ["a": "cached", "deploy": "succeeded"])
    }

    @Test("a missing secret is an environment error that names it, not its value")
    func missing() throws {
        let pipeline = "version: 1\nname: k\nsecrets:\n  T: { env: NOT_SET_ANYWHERE }\nstages:\n  a:\n    run: 'true'\n    secrets: [T]\n"
        let repo = try TempRepo(files: ["pipelines/k.yaml": pipeline])
        let result = try repo.mlpipe("run")
        #expect(result.status == 3)
        #expect(result.stderr.contains("secret T: environment variable NOT_SET_ANYWHERE is not set"), "\(result)")
    }

    @Test("a secret shorter than 4 characters is refused at run start, so it cannot mask ordinary text")
    func tooShort() throws {
        let pipeline = "version: 1\nname: k\nsecrets:\n  TOK: { env: SHORT_TOKEN }\nstages:\n  a:\n    run: echo a command that ran > ran.txt\n    secrets: [TOK]\n"
        let repo = try TempRepo(files: ["pipelines/k.yaml": pipeline])
        let result = try repo.mlpipe("run", env: ["SHORT_TOKEN": "a"])
        #expect(result.status == 3, "\(result)")
        #expect(result.stderr.contains("pipelines/k.yaml:4:3: error: secret TOK is 1 character long"), "\(result)")
        #expect(result.stderr.contains("at least 4"), "\(result)")
        #expect(!result.stderr.contains("***"), "no text was masked: \(result)")
        #expect(repo.read("ran.txt") == nil, "nothing ran")
    }

    @Test("a stage sees only the secrets it lists in `secrets:`")
    func scoped() throws {
        let pipeline = """
            version: 1
            name: scoped
            secrets:
              T: { env: SOURCE_OF_T }
            stages:
              with:
                run: echo "${T:-unset}" > ${{ outputs.o }}
                outputs: { o: o.txt }
                secrets: [T]
              without:
                run: echo "${T:-unset}" > ${{ outputs.o }}
                outputs: { o: o.txt }

            """
        let repo = try TempRepo(files: ["pipelines/scoped.yaml": pipeline])
        let result = try repo.mlpipe("run", env: ["SOURCE_OF_T": Self.secret])
        #expect(result.status == 0, "\(result)")
        #expect(repo.read("workspace/runs/1/with/o.txt") == Self.secret + "\n")
        #expect(repo.read("workspace/runs/1/without/o.txt") == "unset\n")
    }

    @Test("rerun of an old commit reads a git-ignored { file: } secret from the repository, not the worktree")
    func rerunFileSecret() throws {
        let pipeline = """
            version: 1
            name: f
            secrets:
              F: { file: token.txt }
            stages:
              a:
                run: sh scripts/check.sh
                outputs: { o: o.txt }
                secrets: [F]

            """
        let repo = try TempRepo(files: [
            "pipelines/f.yaml": pipeline, ".gitignore": "token.txt\n",
            "scripts/check.sh": "test \"$F\" = file-secret-42 && echo ok > \"$MLPIPE_OUTPUT_DIR/o.txt\"\n",
        ])
        try repo.write("token.txt", "file-secret-42\n")
        let first = try repo.mlpipe("run")
        #expect(first.status == 0, "\(first)")
        try repo.write("notes.txt", "HEAD moves on\n")
        try repo.commit("later work")

        let rerun = try repo.mlpipe("rerun", "1", "--from", "a")
        #expect(rerun.status == 0, "\(rerun)")
        #expect(try repo.statuses() == ["a": "succeeded"])
        #expect(try repo.show()["parentRun"] as? Int == 1)
        #expect(repo.read("workspace/runs/2/a/o.txt") == "ok\n")
        #expect(!rerun.stderr.contains("file-secret-42") && !rerun.stdout.contains("file-secret-42"))
    }

    @Test("a relative --workspace given in a subfolder is taken from that subfolder")
    func relativeWorkspace() throws {
        let pipeline = "version: 1\nname: w\nstages:\n  a:\n    run: 'true'\n"
        let repo = try TempRepo(files: ["pipelines/w.yaml": pipeline, "sub/.keep": ""])
        let result = try runProcess(mlpipeBinary, ["run", "--workspace", "../state"], in: repo.path("sub"))
        #expect(result.status == 0, "\(result)")
        #expect(FileManager.default.fileExists(atPath: repo.path("state/mlpipe.db")))
        #expect(!FileManager.default.fileExists(atPath: repo.path("sub/state")))
        let runs = try runProcess(mlpipeBinary, ["runs", "--workspace", "state"], in: repo.root)
        #expect(runs.status == 0 && runs.stdout.contains("#1"), "\(runs)")
    }
}
