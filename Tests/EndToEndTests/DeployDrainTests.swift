import Foundation
import TestSupport
import Testing

/// A V2 inference sent slowly: the request's head and the first bytes of its body at once,
/// the rest when told, as a client on a slow link uploads it. The server has the request
/// (and counts it in flight) from its head on.
private struct SlowRequest {
    let fd: Int32
    let body: [UInt8]
    let sent: Int

    static let body = Array("""
        {"inputs": [{"name": "X", "datatype": "FP32", "shape": [1, 4], "data": [1, 2, 3, 4]}]}
        """.utf8)

    /// Connects to 127.0.0.1:`port` and sends the head and the body's first 10 bytes.
    init(port: UInt16) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError(description: "socket: \(String(cString: strerror(errno)))") }
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else {
            close(fd)
            throw HarnessError(description: "connect to port \(port): \(String(cString: strerror(errno)))")
        }
        self.fd = fd
        body = Self.body
        sent = 10
        let head = "POST /v2/models/scaler/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        try send(Array(head.utf8) + body[..<sent])
    }

    private func send(_ bytes: [UInt8]) throws {
        let count = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard count == bytes.count else {
            throw HarnessError(description: "send: \(count < 0 ? String(cString: strerror(errno)) : "short write")")
        }
    }

    /// Sends the rest of the body and reads the answer until the server closes the
    /// connection; returns it (empty when the connection was reset or closed first).
    func finish() -> String {
        defer { close(fd) }
        do { try send(Array(body[sent...])) } catch { return "" }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            answer += buffer[0..<count]
        }
        return String(decoding: answer, as: UTF8.self)
    }
}

@Suite("stopping a local deployment drains it", .serialized)
struct DeployDrainTests {
    @Test("`deployments stop` lets every in-flight request finish with 200, refuses new connections, and ends within the grace period")
    func stopDrainsInFlightRequests() throws {
        // MLPIPE_GRACEFUL_TIMEOUT is the app's grace period for in-flight requests.
        let grace = 25.0
        let pipeline = deployPipeline().replacingOccurrences(
            of: "env: { MLPIPE_WORKERS: \"1\" }", with: "env: { MLPIPE_WORKERS: \"1\", MLPIPE_GRACEFUL_TIMEOUT: \"25\" }")
        let fixture = try DeployRepo(pipeline: pipeline)
        defer { fixture.stopAll() }
        let run = try fixture.run(scale: "1")
        #expect(run.status == 0, "\(run)")
        let deployment = try #require(try fixture.deployments().first)
        let endpoint = try #require(deployment["endpoint"] as? String)
        let pid = pid_t(try #require(deployment["pid"] as? Int))
        let port = try #require(UInt16(endpoint.split(separator: ":").last ?? ""))

        let requests = try (0..<8).map { _ in try SlowRequest(port: port) }
        // A full request answered after them: the server has accepted the slow ones.
        #expect(TestServers.httpStatus(port: port, path: "/v2/health/ready") == 200)

        let started = Date()
        let stop = try Child(mlpipeBinary, ["deployments", "stop", "scaler"], in: fixture.repo.root,
                             env: fixture.environment)
        try waitFor("the service to stop accepting connections", timeout: 10) { !TestServers.accepts(port: port) }
        #expect(isAlive(pid), "the service exited with requests in flight")
        // A slow client: the bodies arrive 17 s after the stop began, later than mlpipe
        // waited before it sent SIGKILL (15 s), and within the app's grace period.
        while Date().timeIntervalSince(started) < 17 && stop.isRunning {
            usleep(100_000)
        }
        #expect(stop.isRunning, "`deployments stop` ended with requests in flight")
        let answers = requests.map { $0.finish() }
        for answer in answers {
            #expect(answer.hasPrefix("HTTP/1.1 200 ") && answer.contains("\"outputs\""), "\(answer.prefix(300))")
        }

        let stopped = try stop.finish(timeout: 60)
        let took = Date().timeIntervalSince(started)
        #expect(stopped.status == 0, "\(stopped)")
        #expect(stopped.lines == ["stopped deployment #1 (scaler@1, pid \(pid), \(endpoint))"], "\(stopped)")
        #expect(took < grace, "stopping took \(took) s")
        #expect(!isAlive(pid))
        #expect(!TestServers.accepts(port: port))
        #expect(try fixture.deployments().map { $0["state"] as? String } == ["stopped"])
    }
}
