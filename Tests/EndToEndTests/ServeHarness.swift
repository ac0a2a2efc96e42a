import Foundation
import Testing

/// `mlpipe serve --port 0` in a repository, started as a child and stopped by its pid;
/// requests go through curl, so the test sees exactly what a client sees.
final class ServeProcess: @unchecked Sendable {
    // Used by one test; `stop` runs once, from that test's defer.
    let child: Child
    /// `http://127.0.0.1:PORT`, as the server printed it.
    let url: String

    init(_ repo: TempRepo, arguments: [String] = [], env: [String: String] = [:]) throws {
        let child = try Child(mlpipeBinary, ["serve", "--port", "0"] + arguments, in: repo.root, env: env)
        self.child = child
        var printed = ""
        do {
            try waitFor("mlpipe serve to say where it listens", timeout: 60) {
                printed = (try? String(contentsOf: child.out, encoding: .utf8)) ?? ""
                return printed.contains("listening on http://") || !child.isRunning
            }
        } catch {
            kill(child.pid, SIGKILL)
            throw HarnessError(description: "\(error); stderr: \(child.stderrSoFar)")
        }
        guard let range = printed.range(of: "listening on ") else {
            let outcome = try child.finish(timeout: 5)
            throw HarnessError(description: "mlpipe serve did not start: \(outcome)")
        }
        url = String(printed[range.upperBound...].prefix { !$0.isNewline })
    }

    /// Stops the server with SIGTERM (as a service manager does) and returns its outcome.
    @discardableResult
    func stop() throws -> Outcome {
        if child.isRunning { kill(child.pid, SIGTERM) }
        return try child.finish(timeout: 30)
    }

    /// One request; `path` is sent as written (`--path-as-is`, so `..` reaches the server).
    func request(_ path: String, method: String = "GET", headers: [String] = [], form: [String: String]? = nil) throws -> HTTPReply {
        let headerFile = FileManager.default.temporaryDirectory.appendingPathComponent("headers-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: headerFile) }
        var args = ["-s", "--path-as-is", "-X", method, "-D", headerFile, "--max-time", "30"]
        for header in headers { args += ["-H", header] }
        if let form {
            for (key, value) in form.sorted(by: { $0.key < $1.key }) { args += ["--data-urlencode", "\(key)=\(value)"] }
        }
        let outcome = try runProcess("/usr/bin/curl", args + [url + path], in: "/", timeout: 60)
        guard outcome.status == 0 else { throw HarnessError(description: "curl \(path) failed: \(outcome)") }
        let head = (try? String(contentsOfFile: headerFile, encoding: .utf8)) ?? ""
        return HTTPReply(head: head, body: outcome.stdout)
    }

    /// GET `path`; throws unless it answers 200.
    func get(_ path: String, headers: [String] = []) throws -> String {
        let reply = try request(path, headers: headers)
        guard reply.status == 200 else { throw HarnessError(description: "GET \(path): \(reply.status) \(reply.body)") }
        return reply.body
    }
}

/// A response as curl saw it.
struct HTTPReply: CustomStringConvertible {
    var head: String
    var body: String

    /// The status of the last response in `head` (curl writes one block per response).
    var status: Int {
        let lines = head.split(whereSeparator: \.isNewline).filter { $0.hasPrefix("HTTP/") }
        return lines.last.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
    }

    /// A header's value (case-insensitive name), or nil.
    func header(_ name: String) -> String? {
        for line in head.split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == name.lowercased() {
                return parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    var description: String { "\(status)\n\(head)\n\(body.prefix(2000))" }
}

/// The CSRF token a page's forms carry.
func csrfToken(in page: String) throws -> String {
    guard let range = page.range(of: "name=\"csrf\" value=\"") else {
        throw HarnessError(description: "no CSRF token on the page")
    }
    return String(page[range.upperBound...].prefix { $0 != "\"" })
}

/// A repository with two runs of the basic pipeline: #1 succeeded, #2 failed in train
/// (its prepare cached from #1), each on its own commit.
func servedHistory() throws -> TempRepo {
    let repo = try basicRepo()
    #expect(try repo.mlpipe("run").status == 0)
    try repo.write("scripts/train.sh", "echo 'training broke' >&2\nexit 3\n")
    try repo.commit("break train")
    #expect(try repo.mlpipe("run").status == 1)
    return repo
}

/// `mlpipe run` of a one-stage pipeline whose stage sleeps for a minute, returned once the
/// stage runs; the run's process and the stage are ended, by pid, when this goes.
final class SlowRun {
    let repo: TempRepo
    let run: Child
    let stage: pid_t

    init() throws {
        let pipeline = """
            version: 1
            name: slow
            stages:
              wait:
                run: echo $$ > "$MAIN"; touch "$READY"; exec sleep 60

            """
        let repo = try TempRepo(files: ["pipelines/slow.yaml": pipeline])
        let run = try startProcess(mlpipeBinary, ["run"], in: repo.root, env: ["READY": repo.path("ready"), "MAIN": repo.path("main")])
        do {
            try waitFor("the stage to start") { FileManager.default.fileExists(atPath: repo.path("ready")) }
            stage = try readPid(repo.path("main"))
        } catch {
            if run.isRunning { kill(run.pid, SIGKILL) }
            throw error
        }
        self.repo = repo
        self.run = run
    }

    deinit {
        if run.isRunning { kill(run.pid, SIGKILL) }
        endSurvivors([stage])
    }
}
