import Foundation
import TestSupport
import Testing

/// The S3 remote cache through the built binary, against a real SeaweedFS: fresh clones
/// with their own workspaces share nothing but the remote.
@Suite("remote cache over the S3 API", .weedServer)
struct RemoteCacheTests {
    var server: WeedServer { WeedServerTrait.current! }

    /// A fresh bucket for one test, made through weed's filer (buckets are its folders).
    func bucket() throws -> String {
        let name = "t" + UUID().uuidString.prefix(8).lowercased()
        let made = try runProcess("/usr/bin/curl", ["-s", "-f", "-X", "POST", "\(server.filer)/buckets/\(name)/?op=mkdir"], in: "/")
        guard made.status == 0 else { throw HarnessError(description: "cannot create bucket \(name): \(made)") }
        return name
    }

    func url(_ bucket: String) -> String { "s3://\(bucket)/team?endpoint=\(server.endpoint)&region=us-east-1" }

    var credentials: [String: String] {
        ["AWS_ACCESS_KEY_ID": WeedServer.accessKey, "AWS_SECRET_ACCESS_KEY": WeedServer.secretKey]
    }

    /// The basic pipeline with `remote:` at its top, committed in a new repository.
    func origin(remote: String) throws -> TempRepo {
        var files = basicFiles
        files["pipelines/demo.yaml"] = basicPipeline.replacingOccurrences(of: "name: demo\n", with: "name: demo\nremote: \(remote)\n")
        return try TempRepo(files: files)
    }

    /// A fresh clone of `repo` (its own folder and workspace), at the same commit.
    func clone(_ repo: TempRepo) throws -> TempRepo {
        let copy = try TempRepo()
        try copy.git("pull", "-q", repo.root, "main")
        return copy
    }

    /// The bytes of each stage's outputs of the latest run, by `stage.output`.
    func outputBytes(_ repo: TempRepo) throws -> [String: Data] {
        var bytes: [String: Data] = [:]
        for (name, stage) in try repo.stages() {
            for output in stage["outputs"] as? [[String: Any]] ?? [] {
                let path = output["path"] as? String ?? ""
                bytes["\(name).\(output["name"] as? String ?? "")"] = FileManager.default.contents(atPath: path)
            }
        }
        return bytes
    }

    @Test("a second clone takes every stage from the remote, byte for byte, and shows where each came from")
    func secondCloneIsCached() throws {
        let bucket = try bucket()
        let first = try origin(remote: url(bucket))
        let run = try first.mlpipe("run", env: credentials)
        #expect(run.status == 0, "\(run)")
        #expect(Set(try first.statuses().values) == ["succeeded"])

        let second = try clone(first)
        let again = try second.mlpipe("run", env: credentials)
        #expect(again.status == 0, "\(again)")
        #expect(try second.statuses() == ["prepare": "cached", "train": "cached", "evaluate": "cached", "docs": "cached"])
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? ""
        let reason = try second.stages()["train"]?["reason"] as? String ?? ""
        #expect(reason.hasPrefix("cached from remote s3://\(bucket)/team: run #1 on \(host)"), "\(reason)")
        let (secondBytes, firstBytes) = (try outputBytes(second), try outputBytes(first))
        #expect(secondBytes == firstBytes)
        #expect(try outputBytes(second).count == 4)
        let shown = try second.mlpipe("runs", "show", "latest")
        #expect(shown.lines.contains { $0.contains("why: cached from remote s3://\(bucket)/team: run #1") }, "\(shown)")
        // The remote result became a local one: the next run needs no remote at all.
        let third = try second.mlpipe("run", env: ["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
                                                    "MLPIPE_REMOTE": "s3://nobucket?endpoint=http://127.0.0.1:1"])
        #expect(third.status == 0, "\(third)")
        #expect(third.lines.contains { $0.contains("train") && $0.contains("cached from run #1") }, "\(third)")
    }

    @Test("credentials from the secrets `remote:` names, with no AWS variables set")
    func credentialsFromSecrets() throws {
        let bucket = try bucket()
        var files = basicFiles
        files["pipelines/demo.yaml"] = basicPipeline.replacingOccurrences(of: "name: demo\n", with: """
            name: demo
            secrets:
              S3_KEY: { env: TEAM_S3_KEY }
              S3_SECRET: { env: TEAM_S3_SECRET }
            remote:
              url: \(url(bucket))
              access_key_id: S3_KEY
              secret_access_key: S3_SECRET

            """)
        let first = try TempRepo(files: files)
        let environment = ["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
                           "TEAM_S3_KEY": WeedServer.accessKey, "TEAM_S3_SECRET": WeedServer.secretKey]
        let run = try first.mlpipe("run", env: environment)
        #expect(run.status == 0 && !run.stderr.contains("warning"), "\(run)")
        let second = try clone(first)
        #expect(try second.mlpipe("run", env: environment).status == 0)
        #expect(Set(try second.statuses().values) == ["cached"])
    }

    @Test("a remote that is down is one warning and a local run")
    func remoteDown() throws {
        let repo = try basicRepo()
        let port = try WeedServer.freePortPairs(1)[0]
        let run = try repo.mlpipe("run", "--remote", "s3://cache/team?endpoint=http://127.0.0.1:\(port)", env: credentials)
        #expect(run.status == 0, "\(run)")
        #expect(Set(try repo.statuses().values) == ["succeeded"])
        let warnings = run.errorLines.filter { $0.contains("warning") }
        #expect(warnings.count == 1, "\(run)")
        #expect(warnings.first?.contains("the remote cache s3://cache/team cannot be used") == true, "\(run)")
        #expect(warnings.first?.contains("connection refused") == true, "\(run)")
    }

    @Test("--remote-required with the remote down exits 3 and says why")
    func remoteRequiredDown() throws {
        let repo = try basicRepo()
        let port = try WeedServer.freePortPairs(1)[0]
        let run = try repo.mlpipe("run", "--remote", "s3://cache/team?endpoint=http://127.0.0.1:\(port)", "--remote-required",
                                  env: credentials)
        #expect(run.status == 3, "\(run)")
        #expect(run.stderr.contains("mlpipe: error: the remote cache s3://cache/team is required (--remote-required) but cannot be used"), "\(run)")
        #expect(run.stderr.contains("connection refused"), "\(run)")
    }

    @Test("a wrong secret is a warning naming the key id, never the secret")
    func deniedIsWarning() throws {
        let bucket = try bucket()
        let repo = try basicRepo()
        let run = try repo.mlpipe("run", "--remote", url(bucket),
                                  env: ["AWS_ACCESS_KEY_ID": WeedServer.accessKey, "AWS_SECRET_ACCESS_KEY": "wrong-secret-value"])
        #expect(run.status == 0, "\(run)")
        #expect(run.stderr.contains("HTTP 403") && run.stderr.contains(WeedServer.accessKey), "\(run)")
        #expect(!run.stderr.contains("wrong-secret-value") && !run.stdout.contains("wrong-secret-value"))
    }

    @Test("two clones writing the same keys at once: one entry wins per key and both runs succeed")
    func concurrentWriters() throws {
        let bucket = try bucket()
        // A stage whose output differs on every run shows whose entry won.
        let pipeline = """
            version: 1
            name: race
            stages:
              noise:
                run: head -c 32 /dev/urandom | od -An -tx1 > ${{ outputs.bytes }}
                outputs: { bytes: bytes.txt }

            """
        let first = try TempRepo(files: ["pipelines/race.yaml": pipeline])
        let second = try clone(first)
        let environment = childEnvironment(credentials.merging(["MLPIPE_REMOTE": url(bucket)]) { $1 })
        let a = try Child(mlpipeBinary, ["run"], in: first.root, env: environment)
        let b = try Child(mlpipeBinary, ["run"], in: second.root, env: environment)
        let (ra, rb) = (try a.finish(), try b.finish())
        #expect(ra.status == 0, "\(ra)")
        #expect(rb.status == 0, "\(rb)")
        let listing = try runProcess("/usr/bin/curl", ["-s", "-H", "Accept: application/json",
                                                       "\(server.filer)/buckets/\(bucket)/team/ac/sha256/?limit=100"], in: "/")
        #expect(listing.stdout.components(separatedBy: "\"FullPath\"").count - 1 == 1, "\(listing)")

        let third = try clone(first)
        #expect(try third.mlpipe("run", env: credentials.merging(["MLPIPE_REMOTE": url(bucket)]) { $1 }).status == 0)
        #expect(try third.statuses() == ["noise": "cached"])
        let taken = try outputBytes(third)["noise.bytes"]
        let (madeByFirst, madeBySecond) = (try outputBytes(first)["noise.bytes"], try outputBytes(second)["noise.bytes"])
        #expect(madeByFirst != madeBySecond)
        #expect(taken != nil && (taken == madeByFirst || taken == madeBySecond))
    }

    @Test("a corrupt remote object is refused by its digest and the stage is computed")
    func corruptObject() throws {
        let bucket = try bucket()
        let first = try origin(remote: url(bucket))
        #expect(try first.mlpipe("run", env: credentials).status == 0)
        let model = (try first.stages()["train"]?["outputs"] as? [[String: Any]])?.first
        let digest = (model?["digest"] as? String ?? "").replacingOccurrences(of: "sha256:", with: "")
        let overwritten = try runProcess("/usr/bin/curl", ["-s", "-f", "-X", "PUT", "--data-binary", "not the model",
                                                           "\(server.filer)/buckets/\(bucket)/team/cas/sha256/\(digest)"], in: "/")
        #expect(overwritten.status == 0, "\(overwritten)")

        let second = try clone(first)
        let run = try second.mlpipe("run", env: credentials)
        #expect(run.status == 0, "\(run)")
        #expect(try second.statuses() == ["prepare": "cached", "train": "succeeded", "evaluate": "cached", "docs": "cached"])
        #expect(run.errorLines.contains { $0.contains("train") && $0.contains("warning") && $0.contains("not sha256:\(digest)") },
                "\(run)")
        let (secondModel, firstModel) = (try outputBytes(second)["train.model"], try outputBytes(first)["train.model"])
        #expect(secondModel != nil && secondModel == firstModel)
    }

    @Test("cache push uploads a run made without a remote, and a fresh clone takes it")
    func pushThenRun() throws {
        let bucket = try bucket()
        let first = try basicRepo()
        #expect(try first.mlpipe("run").status == 0)
        let push = try first.mlpipe("cache", "push", "--remote", url(bucket), env: credentials)
        #expect(push.status == 0, "\(push)")
        #expect(push.lines.last == "run #1: 4 stage result(s) pushed to s3://\(bucket)/team", "\(push)")

        let second = try clone(first)
        #expect(try second.mlpipe("run", "--remote", url(bucket), env: credentials).status == 0)
        #expect(Set(try second.statuses().values) == ["cached"])
    }

    @Test("a remote URL that is not s3:// is reported at its line and column")
    func badRemoteURL() throws {
        let repo = try origin(remote: "https://example.com/cache")
        let lint = try repo.mlpipe("lint")
        #expect(lint.status == 2, "\(lint)")
        #expect(lint.stderr.contains("pipelines/demo.yaml:3:9: error: remote 'https://example.com/cache' is not an s3:// URL"), "\(lint)")
    }
}
