import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Debian's `docker-registry` on 127.0.0.1 on a free port, storing into `folder/data`,
/// optionally behind htpasswd Basic auth; stopped by its pid.
private final class TestRegistry: @unchecked Sendable {
    // Used by one test at a time.
    let folder: String
    let port: Int
    private var child: Child?
    var address: String { "127.0.0.1:\(port)" }
    var storage: String { folder + "/data" }

    init(users: [String: String] = [:]) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("mlpipe-registry-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var auth = ""
        if !users.isEmpty {
            var lines = ""
            for (user, password) in users.sorted(by: { $0.key < $1.key }) {
                let made = try runProcess("/usr/bin/htpasswd", ["-Bbn", user, password], in: folder)
                guard made.status == 0 else { throw HarnessError(description: "htpasswd failed: \(made)") }
                lines += made.stdout.trimmingCharacters(in: .whitespacesAndNewlines) + "\n"
            }
            try Data(lines.utf8).write(to: URL(fileURLWithPath: folder + "/htpasswd"))
            auth = "auth:\n  htpasswd:\n    realm: mlpipe-test\n    path: \(folder)/htpasswd\n"
        }
        port = try Self.freePort()
        let config = """
            version: 0.1
            log:
              level: error
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: \(folder)/data
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:\(port)

            """ + auth
        try Data(config.utf8).write(to: URL(fileURLWithPath: folder + "/config.yml"))
        try start()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Starts the registry (again) on the same port and storage folder.
    func start() throws {
        let started = try Child("/usr/bin/docker-registry", ["serve", folder + "/config.yml"], in: folder)
        child = started
        let port = self.port
        try waitFor("docker-registry on 127.0.0.1:\(port)", timeout: 20) {
            guard started.isRunning else {
                throw HarnessError(description: "docker-registry exited: \(started.stderrSoFar)")
            }
            return Self.canConnect(port: port)
        }
    }

    /// SIGTERM to the registry's pid, and a wait for it to go.
    func stop() {
        guard let child else { return }
        kill(child.pid, SIGTERM)
        _ = try? child.finish(timeout: 20)
        self.child = nil
    }

    /// The manifest digest skopeo sees for `reference` (`REPO:TAG`), or nil when it finds none.
    func digest(_ reference: String, credentials: String? = nil) throws -> String? {
        var arguments = ["inspect", "--tls-verify=false", "--format", "{{.Digest}}"]
        if let credentials { arguments += ["--creds", credentials] }
        let result = try runProcess("/usr/bin/skopeo", arguments + ["docker://\(address)/\(reference)"], in: folder)
        return result.status == 0 ? result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) : nil
    }

    static func canConnect(port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    static func freePort() throws -> Int {
        Int(try TestServers.freePort())
    }
}

/// Runs a tool that must succeed.
@discardableResult
private func tool(_ program: String, _ arguments: String..., in folder: String) throws -> String {
    let result = try runProcess(program, arguments, in: folder)
    guard result.status == 0 else {
        throw HarnessError(description: "\(program) \(arguments.joined(separator: " ")) failed: \(result)")
    }
    return result.stdout
}

/// A small linux/amd64 OCI layout made with umoci at `layout`, tagged `tag`.
private func makeLayout(_ layout: String, tag: String, content: String) throws {
    let folder = (layout as NSString).deletingLastPathComponent
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let file = folder + "/os-release-\(UUID().uuidString.prefix(6))"
    try Data(content.utf8).write(to: URL(fileURLWithPath: file))
    try tool("/usr/bin/umoci", "init", "--layout", layout, in: folder)
    try tool("/usr/bin/umoci", "new", "--image", layout + ":" + tag, in: folder)
    try tool("/usr/bin/umoci", "insert", "--image", layout + ":" + tag, file, "/etc/os-release", in: folder)
    try tool("/usr/bin/umoci", "config", "--image", layout + ":" + tag, "--architecture", "amd64", "--os", "linux",
             "--config.env", "PATH=/usr/bin:/bin", in: folder)
}

@Suite("mlpipe image push")
struct ImageCommandTests {
    @Test("pushes a layout's image to a registry, where skopeo finds it under the tag with the digest printed")
    func pushesLayout() throws {
        let registry = try TestRegistry()
        let repo = try TempRepo()
        try makeLayout(repo.path("oci"), tag: "v1", content: "bookworm\n")
        let pushed = try repo.mlpipe("image", "push", "oci:v1", "\(registry.address)/ml/pushed:1.0")
        #expect(pushed.status == 0, "\(pushed)")
        let digest = try #require(pushed.lines.first { $0.hasPrefix("  digest") }?.split(separator: " ").last.map(String.init))
        #expect(pushed.lines.first == "pushed \(registry.address)/ml/pushed:1.0")
        #expect(pushed.stdout.contains("  reference  \(registry.address)/ml/pushed@\(digest)"))
        #expect(try registry.digest("ml/pushed:1.0") == digest)

        // Again: every blob is there, nothing is sent.
        let again = try repo.mlpipe("image", "push", "oci:v1", "\(registry.address)/ml/pushed:1.0")
        #expect(again.status == 0)
        #expect(again.stdout.contains("already there), 0 bytes sent"), "\(again)")
    }

    @Test("credentials come from MLPIPE_REGISTRY_USERNAME and _PASSWORD, and the password is never printed")
    func credentialsFromEnvironment() throws {
        let password = "pa55-\(UUID().uuidString.prefix(8))"
        let registry = try TestRegistry(users: ["ci": password])
        let repo = try TempRepo()
        try makeLayout(repo.path("oci"), tag: "v1", content: "bookworm\n")
        let target = "\(registry.address)/ml/private:v1"

        let anonymous = try repo.mlpipe("image", "push", "oci:v1", target)
        #expect(anonymous.status == 3)
        #expect(anonymous.stderr.contains("requires credentials"), "\(anonymous)")

        let wrong = try repo.mlpipe("image", "push", "oci:v1", target,
                                    env: ["MLPIPE_REGISTRY_USERNAME": "ci", "MLPIPE_REGISTRY_PASSWORD": "wrong-\(password)"])
        #expect(wrong.status == 3)
        #expect(wrong.stderr.contains("$MLPIPE_REGISTRY_PASSWORD"), "\(wrong)")
        #expect(!wrong.stderr.contains(password) && !wrong.stdout.contains(password))

        let half = try repo.mlpipe("image", "push", "oci:v1", target, env: ["MLPIPE_REGISTRY_USERNAME": "ci"])
        #expect(half.status == 2)
        #expect(half.stderr.contains("$MLPIPE_REGISTRY_PASSWORD is not"), "\(half)")

        let pushed = try repo.mlpipe("image", "push", "oci:v1", target,
                                     env: ["MLPIPE_REGISTRY_USERNAME": "ci", "MLPIPE_REGISTRY_PASSWORD": password])
        #expect(pushed.status == 0, "\(pushed)")
        #expect(!pushed.stdout.contains(password) && !pushed.stderr.contains(password))
        #expect(try registry.digest("ml/private:v1", credentials: "ci:\(password)") != nil)
    }

    @Test("a folder that is not a layout and a bad target are usage errors that name them")
    func badArguments() throws {
        let repo = try TempRepo()
        try repo.write("notalayout/readme", "hello\n")
        let notLayout = try repo.mlpipe("image", "push", "notalayout", "127.0.0.1:9/ml/x:1")
        #expect(notLayout.status == 2)
        #expect(notLayout.stderr.contains("notalayout") && notLayout.stderr.contains("oci-layout"), "\(notLayout)")
        try makeLayout(repo.path("oci"), tag: "v1", content: "x\n")
        let badTarget = try repo.mlpipe("image", "push", "oci:v1", "127.0.0.1:9/ML/Upper:1")
        #expect(badTarget.status == 2)
        #expect(badTarget.stderr.contains("'ML/Upper' is not a repository name"), "\(badTarget)")
    }
}

/// A repository with a package, a stub serving template and a base layout, and a
/// pipeline that containerizes (from the param `base`, by default the layout) and, with
/// `registry`, pushes there.
private func containerizeRepo(registry: String?) throws -> TempRepo {
    let push = registry.map { "\n      push: { registry: \"\($0)\", repository: ml/iris }" } ?? ""
    let repo = try TempRepo(files: [
        "package/mlpipe-model.json": """
            {"files":[],"format":"onnx","flavor":"onnx","model":"model/model.onnx","name":"iris",\
            "requirements":[],"schema":"mlpipe-model/v1","metadata":{}}
            """,
        "package/model/model.onnx": String(repeating: "onnx-bytes", count: 300),
        "template/mlpipe_serving/__main__.py": "print('serving')\n",
        "template/requirements.txt": "# nothing to install\n",
        "pipelines/image.yaml": """
            version: 1
            name: image
            stages:
              image:
                kind: containerize
                inputs: [package]
                with:
                  package: package
                  template: template
                  base: ${{ params.base }}\(push)
                outputs: { image: image }
            params:
              base: base:bookworm

            """,
    ], commit: false)
    try makeLayout(repo.path("base"), tag: "bookworm", content: "bookworm\n")
    try repo.commit("package, template, base and pipeline")
    return repo
}

@Suite("containerize: a cached push is checked against the registry")
struct ContainerizeRegistryCacheTests {
    @Test("a registry that lost the image makes the stage run again and push it back; one that has it keeps the hit")
    func lostImageIsPushedAgain() throws {
        let registry = try TestRegistry()
        let repo = try containerizeRepo(registry: registry.address)
        let first = try repo.mlpipe("run", "image")
        #expect(first.status == 0, "\(first)")
        let stage = try #require(try repo.stages()["image"])
        let digest = try #require((stage["results"] as? [String: Any])?["digest"] as? String)
        #expect(try registry.digest("ml/iris:latest") == digest)

        let kept = try repo.mlpipe("run", "image")
        #expect(kept.status == 0)
        #expect(try repo.statuses()["image"] == "cached")

        // The registry's storage is wiped: the cached result no longer holds.
        try FileManager.default.removeItem(atPath: registry.storage)
        #expect(try registry.digest("ml/iris:latest") == nil)
        let again = try repo.mlpipe("run", "image")
        #expect(again.status == 0, "\(again)")
        let rerun = try #require(try repo.stages()["image"])
        #expect(rerun["status"] as? String == "succeeded")
        #expect((rerun["reason"] as? String)?.contains("no longer exists") == true, "\(rerun)")
        #expect(try registry.digest("ml/iris:latest") == digest)
    }

    @Test("a registry that cannot be reached is an error that says so, not a quiet cache miss")
    func unreachableRegistryIsAnError() throws {
        let registry = try TestRegistry()
        let repo = try containerizeRepo(registry: registry.address)
        #expect(try repo.mlpipe("run", "image").status == 0)
        registry.stop()
        let run = try repo.mlpipe("run", "image")
        #expect(run.status == 1, "\(run)")
        let stage = try #require(try repo.stages()["image"])
        #expect(stage["status"] as? String == "failed")
        let reason = stage["reason"] as? String ?? ""
        #expect(reason.contains("could not be checked") && reason.contains("cannot reach registry \(registry.address)"),
                "\(stage)")
    }
}

@Suite("containerize: a base image from a registry")
struct ContainerizeRegistryBaseTests {
    @Test("a base pulled by tag and by digest builds the image the same base builds from its layout")
    func baseFromRegistry() throws {
        let registry = try TestRegistry()
        let repo = try containerizeRepo(registry: nil)
        let local = try repo.mlpipe("run", "image")
        #expect(local.status == 0, "\(local)")
        let fromLayout = try #require((try repo.stages()["image"]?["results"] as? [String: Any])?["digest"] as? String)

        try tool("/usr/bin/skopeo", "copy", "--dest-tls-verify=false", "oci:\(repo.path("base")):bookworm",
                 "docker://\(registry.address)/base/debian:bookworm", in: repo.root)
        let baseDigest = try #require(try registry.digest("base/debian:bookworm"))

        let byTag = try repo.mlpipe("run", "image", "--param", "base=\(registry.address)/base/debian:bookworm")
        #expect(byTag.status == 0, "\(byTag)")
        let tagResults = try #require(try repo.stages()["image"]?["results"] as? [String: Any])
        #expect(tagResults["digest"] as? String == fromLayout)
        #expect(tagResults["baseDigest"] as? String == baseDigest)
        let log = try repo.mlpipe("logs", "latest", "image").stdout
        #expect(log.contains("tag 'bookworm' resolved to \(baseDigest)"), "\(log)")

        let byDigest = try repo.mlpipe("run", "image", "--param", "base=\(registry.address)/base/debian@\(baseDigest)")
        #expect(byDigest.status == 0, "\(byDigest)")
        let digestResults = try #require(try repo.stages()["image"]?["results"] as? [String: Any])
        #expect(digestResults["digest"] as? String == fromLayout)
        #expect(digestResults["baseDigest"] as? String == baseDigest)
    }

    @Test("a base in a registry that is not running fails the stage, naming the registry")
    func unreachableBaseRegistry() throws {
        let repo = try containerizeRepo(registry: nil)
        let port = try TestRegistry.freePort()
        let run = try repo.mlpipe("run", "image", "--param", "base=127.0.0.1:\(port)/base/debian:bookworm")
        #expect(run.status == 1)
        let error = try #require(try repo.stages()["image"]?["error"] as? String)
        #expect(error.contains("base image 127.0.0.1:\(port)/base/debian:bookworm") && error.contains("cannot reach registry"),
                "\(error)")
    }
}
