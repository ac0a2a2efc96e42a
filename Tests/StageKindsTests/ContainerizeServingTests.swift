import ContainerImage
import Foundation
import PipelineEngine
import PipelineSpec
@testable import StageKinds
import Synchronization
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The repository this test file is in.
private let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path

/// What the end-to-end image test needs: root (umoci unpack and chroot), the venv
/// (pip, and scikit-learn to make the model), the base layout `make base-image` builds.
private let canRunImage = getuid() == 0 && ProcessInfo.processInfo.environment["MLPIPE_VENV"] != nil
    && FileManager.default.fileExists(atPath: repositoryRoot + "/workspace/base/oci/index.json")

@Suite("kind: containerize, the image run")
struct ContainerizeServingTests {
    @Test("the image of an ONNX iris package, unpacked with umoci, runs its entrypoint in a chroot and answers a V2 infer",
          .enabled(if: canRunImage, "needs root, MLPIPE_VENV and workspace/base/oci (make base-image)"),
          .timeLimit(.minutes(10)))
    func servesPrediction() async throws {
        let venv = ProcessInfo.processInfo.environment["MLPIPE_VENV"]!
        let folder = FileManager.default.temporaryDirectory.path + "/mlpipe-serve-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder + "/out", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // The package as `kind: serialize` writes it, made by the serving app's own test helpers.
        try containerizeTool(venv + "/bin/python", "-c", """
            import sys; sys.path.insert(0, sys.argv[2] + '/templates/serving/python/tests')
            import support
            from pathlib import Path
            model, _ = support.iris()
            support.write_package(Path(sys.argv[1]), name='iris', format='onnx', flavor='onnx',
                                  files={'model/model.onnx': support.onnx_bytes(model)}, model='model/model.onnx',
                                  signature=support.ONNX_SIGNATURE)
            """, folder + "/package", repositoryRoot, timeout: 300)

        // The repository's workspace: its base layout, and its requirements cache, which
        // spares a second run pip's minute.
        var context = StageContext(
            runID: 1, pipelineName: "iris", stageName: "containerize", repositoryRoot: repositoryRoot,
            outputDirectory: folder + "/out", outputs: ["image": folder + "/out/image"],
            inheritedEnvironment: ProcessInfo.processInfo.environment,
            log: try LogSink(path: folder + "/containerize.log", masker: SecretMasker(values: [])),
            executor: LocalProcessExecutor(), workspace: repositoryRoot + "/workspace")
        context.commitTime = 1_764_504_000
        let settings = try ContainerizeFixture.settings("{\"package\": \"\(folder)/package\"}")
        let result = try await ContainerizeKind().run(context, settings: settings)
        let image = try OCILayoutReader(path: folder + "/out/image").image(tag: "latest")
        #expect(result.results["digest"] == .string(image.digest.description))

        let bundle = folder + "/bundle"
        try containerizeTool("umoci", "unpack", "--image", folder + "/out/image:latest", bundle, timeout: 300)
        let run = image.config.config
        let port = try freePort()
        let environment = (run.env ?? []) + ["HOST=127.0.0.1", "PORT=\(port)", "MLPIPE_WORKERS=1"]
        let user = try #require(run.user)
        let workingDir = try #require(run.workingDir)
        let entrypoint = try #require(run.entrypoint)
        // What a runtime would do: the config's user, environment, folder and entrypoint.
        let server = try SpawnedProcess(
            "chroot", ["--userspec=\(user)", bundle + "/rootfs", "/usr/bin/env", "-i"] + environment
                + ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", workingDir] + entrypoint,
            log: folder + "/server.log")
        defer { server.stop() }

        try await waitFor("the server's /v2/health/ready", deadline: 120, log: folder + "/server.log") {
            if let status = server.exitStatus {
                throw ContainerizeToolError(description: "the server exited with status \(status): "
                    + ((try? String(contentsOfFile: folder + "/server.log", encoding: .utf8)) ?? "").suffix(3000))
            }
            return (try? http(venv, "http://127.0.0.1:\(port)/v2/health/ready")) != nil
        }
        let answer = try http(
            venv, "http://127.0.0.1:\(port)/v2/models/iris/infer",
            body: #"{"inputs":[{"name":"X","datatype":"FP32","shape":[2,4],"data":[5.1,3.5,1.4,0.2,6.7,3.0,5.2,2.3]}]}"#)
        let body = try #require(JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any])
        let outputs = try #require(body["outputs"] as? [[String: Any]])
        let label = try #require(outputs.first { $0["name"] as? String == "label" })
        #expect((label["data"] as? [Int]) == [0, 2], "\(answer)")
        #expect(body["model_name"] as? String == "iris")
    }
}

/// The body of a GET (or, with `body`, a JSON POST) to `url`, through the venv's Python
/// (no curl needed); a status other than 2xx throws.
func http(_ venv: String, _ url: String, body: String? = nil) throws -> String {
    try containerizeTool(venv + "/bin/python", "-c", """
        import sys, urllib.request
        data = sys.argv[2].encode() if sys.argv[2] else None
        request = urllib.request.Request(sys.argv[1], data=data, headers={"Content-Type": "application/json"})
        sys.stdout.write(urllib.request.urlopen(request, timeout=10).read().decode())
        """, url, body ?? "", timeout: 30)
}

/// A free TCP port on 127.0.0.1 (bound, read, released).
func freePort() throws -> Int {
    Int(try TestServers.freePort())
}

/// Waits for `condition` with a deadline; the error shows the end of `log`.
func waitFor(_ what: String, deadline seconds: Double, log: String, _ condition: () throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return }
        try await Task.sleep(for: .milliseconds(250))
    }
    let tail = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").suffix(3000)
    throw ContainerizeToolError(description: "timed out after \(seconds)s waiting for \(what); its log ends:\n\(tail)")
}

/// A long-running child (a server), its output in `log`, stopped by its pid.
final class SpawnedProcess: Sendable {
    let pid: pid_t
    /// The wait status once the child has been reaped.
    private let reaped = Mutex<Int32?>(nil)

    init(_ program: String, _ arguments: [String], log: String) throws {
        let fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        defer { close(fd) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fd, 1)
        posix_spawn_file_actions_adddup2(&actions, fd, 2)
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let code = posix_spawnp(&pid, program, &actions, nil, argv, environ)
        guard code == 0 else { throw ContainerizeToolError(description: "cannot start \(program)") }
        self.pid = pid
    }

    /// The exit status if the child has ended (it is reaped then), else nil.
    var exitStatus: Int32? {
        reaped.withLock { reaped in
            if reaped == nil {
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) == pid { reaped = status }
            }
            return reaped.map { ($0 >> 8) & 0xff }
        }
    }

    /// SIGTERM, then SIGKILL after 20 s; reaps it.
    func stop() {
        guard exitStatus == nil else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(20)
        while exitStatus == nil {
            if Date() >= deadline {
                kill(pid, SIGKILL)
                var status: Int32 = 0
                _ = waitpid(pid, &status, 0)
                return
            }
            usleep(20_000)
        }
    }
}
