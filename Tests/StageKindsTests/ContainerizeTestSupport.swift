import Foundation
import PipelineEngine
import PipelineSpec
@testable import StageKinds
#if canImport(Glibc)
import Glibc
#endif

/// A repository-like folder for one containerize test: a package, a template, a base
/// layout made with umoci, a workspace; removed when the value goes away.
final class ContainerizeFixture: Sendable {
    let root: String

    init() throws {
        root = FileManager.default.temporaryDirectory.path + "/mlpipe-containerize-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root + "/workspace", withIntermediateDirectories: true)
        try write("package/mlpipe-model.json", """
            {"files":[],"format":"onnx","flavor":"onnx","model":"model/model.onnx","name":"iris",\
            "requirements":[],"schema":"mlpipe-model/v1","metadata":{}}
            """)
        try write("package/model/model.onnx", String(repeating: "onnx-bytes", count: 500))
        try write("templates/serving/python/mlpipe_serving/__main__.py", "print('serving')\n")
        try write("templates/serving/python/requirements.txt", "# none for this test\n")
        try write("templates/serving/python/tests/test_app.py", "def test(): pass\n")
        try write("templates/serving/python/Dockerfile", "FROM scratch\n")
        let src = try write("base-src/os-release", "bookworm\n")
        let layout = root + "/workspace/base/oci"
        try FileManager.default.createDirectory(atPath: root + "/workspace/base", withIntermediateDirectories: true)
        try containerizeTool("umoci", "init", "--layout", layout)
        try containerizeTool("umoci", "new", "--image", layout + ":bookworm")
        try containerizeTool("umoci", "insert", "--image", layout + ":bookworm", src, "/etc/os-release")
        try containerizeTool("umoci", "config", "--image", layout + ":bookworm", "--architecture", "amd64",
                             "--os", "linux", "--config.env", "PATH=/usr/bin:/bin", "--config.cmd", "python3")
    }

    deinit {
        try? FileManager.default.removeItem(atPath: root)
    }

    @discardableResult
    func write(_ relative: String, _ text: String) throws -> String {
        let file = root + "/" + relative
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        return file
    }

    /// A context for a stage `containerize` of run `run`, outputs declared as `image`.
    func context(run: Int64 = 1, environment: [String: String] = [:], commitTime: Int64 = 1_764_504_000)
        throws -> StageContext {
        let folder = root + "/workspace/runs/\(run)/containerize"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var context = StageContext(
            runID: run, pipelineName: "iris", stageName: "containerize", repositoryRoot: root,
            outputDirectory: folder, outputs: ["image": folder + "/image"], environment: environment,
            log: try LogSink(path: folder + ".log", masker: SecretMasker(values: [])),
            executor: LocalProcessExecutor(), workspace: root + "/workspace")
        context.commit = String(repeating: "c", count: 40)
        context.commitTime = commitTime
        return context
    }

    /// The stage's log so far.
    func log(run: Int64 = 1) throws -> String {
        try String(contentsOfFile: root + "/workspace/runs/\(run)/containerize.log", encoding: .utf8)
    }

    /// Settings from a JSON object, as a pipeline's `with:` would give them.
    static func settings(_ json: String) throws -> ContainerizeSettings {
        try JSONDecoder().decode(ContainerizeSettings.self, from: Data(json.utf8))
    }
}

struct ContainerizeToolError: Error, CustomStringConvertible {
    var description: String
}

/// Runs a program on the PATH that must succeed; returns its standard output. Reaped by
/// its own pid with a deadline (Foundation's Process can miss an exit under concurrency).
@discardableResult
func containerizeTool(_ program: String, _ arguments: String..., timeout: Double = 120) throws -> String {
    let folder = FileManager.default.temporaryDirectory.path + "/mlpipe-tool-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let outFD = open(folder + "/out", O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
    let errFD = open(folder + "/err", O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
    defer { close(outFD); close(errFD) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_adddup2(&actions, outFD, 1)
    posix_spawn_file_actions_adddup2(&actions, errFD, 2)
    let argv = ([program] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let code = posix_spawnp(&pid, program, &actions, nil, argv, environ)
    guard code == 0 else { throw ContainerizeToolError(description: "cannot start \(program)") }
    let deadline = Date().addingTimeInterval(timeout)
    var status: Int32 = 0
    while waitpid(pid, &status, WNOHANG) != pid {
        if Date() >= deadline {
            kill(pid, SIGKILL)
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            throw ContainerizeToolError(description: "\(program) did not finish in \(timeout)s")
        }
        usleep(5_000)
    }
    let read = { (name: String) in
        String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))) ?? Data(), as: UTF8.self)
    }
    guard status == 0 else {
        throw ContainerizeToolError(description: "\(program) \(arguments.joined(separator: " ")) failed: \(read("err"))")
    }
    return read("out")
}
