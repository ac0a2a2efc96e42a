import Foundation
import Synchronization
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The repository this test file is in.
let smokeRepositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path

/// The venv with the serving app's requirements (MLPIPE_VENV, as `make test` sets it).
let smokeVenv = ProcessInfo.processInfo.environment["MLPIPE_VENV"]

struct SmokeTestError: Error, CustomStringConvertible {
    var description: String
}

/// A temporary folder, removed when the value goes away.
final class SmokeFolder: Sendable {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.path + "/mlpipe-smoke-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let file = path + "/" + name
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        return file
    }

    func read(_ name: String) -> String {
        (try? String(contentsOfFile: path + "/" + name, encoding: .utf8)) ?? ""
    }
}

/// A child process, its output in `log`, stopped by its pid.
final class SmokeProcess: Sendable {
    let pid: pid_t
    let log: String
    private let reaped = Mutex<Int32?>(nil)

    init(_ arguments: [String], environment: [String: String] = [:], log: String) throws {
        self.log = log
        var merged = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("MLPIPE_") }
        merged.merge(environment) { _, new in new }
        // Through env, which finds the program on PATH and becomes it (same pid).
        pid = try TestServers.spawn("/usr/bin/env", arguments, environment: merged, log: log)
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

    /// Waits for the child to end, with a deadline (then it is killed and this throws).
    func wait(deadline seconds: Double) async throws -> Int32 {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let status = exitStatus { return status }
            try await Task.sleep(for: .milliseconds(20))
        }
        stop()
        throw SmokeTestError(description: "\(pid) did not end within \(seconds) s:\n\(tail())")
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

    func tail() -> String {
        String(((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").suffix(3000))
    }
}

/// Runs `arguments` to the end; its output, or an error with it when the status is not 0.
@discardableResult
func smokeRun(_ arguments: [String], in folder: SmokeFolder, deadline: Double = 300) async throws -> String {
    let process = try SmokeProcess(arguments, log: folder.path + "/run-\(UUID().uuidString.prefix(6)).log")
    let status = try await process.wait(deadline: deadline)
    guard status == 0 else {
        throw SmokeTestError(description: "\(arguments.prefix(2).joined(separator: " ")) exited \(status):\n\(process.tail())")
    }
    return process.tail()
}

/// The status of `GET path` on 127.0.0.1:`port`, or nil when nothing answers.
func smokeStatus(port: Int, path: String) -> Int? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 2, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
    guard connected else { return nil }
    let request = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
    guard send(fd, request, request.count, Int32(MSG_NOSIGNAL)) == request.count else { return nil }
    var buffer = [UInt8](repeating: 0, count: 64)
    let count = recv(fd, &buffer, buffer.count, 0)
    guard count > 12 else { return nil }
    let line = String(decoding: buffer[..<count], as: UTF8.self)
    return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
}

/// Waits for `condition` with a deadline.
func smokeWait(_ what: String, deadline seconds: Double, _ condition: () throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw SmokeTestError(description: "timed out after \(seconds) s waiting for \(what)")
}

/// A free TCP port on 127.0.0.1 (bound, read, released).
func smokeFreePort() throws -> Int {
    Int(try TestServers.freePort())
}

/// The real serving app (templates/serving/python) serving an ONNX iris package made by
/// the app's own test helpers, on 127.0.0.1, one worker; stopped by its pid.
final class SmokeServingApp: Sendable {
    let process: SmokeProcess
    let port: Int
    let folder: SmokeFolder

    /// With `jwtKey`, the app requires a bearer token signed with it (HS256).
    init(jwtKey: String? = nil) async throws {
        guard let venv = smokeVenv else { throw SmokeTestError(description: "MLPIPE_VENV is not set") }
        folder = try SmokeFolder()
        try await smokeRun([venv + "/bin/python", "-c", """
            import sys; sys.path.insert(0, sys.argv[2] + '/templates/serving/python/tests')
            import support
            from pathlib import Path
            model, _ = support.iris()
            support.write_package(Path(sys.argv[1]), name='iris', format='onnx', flavor='onnx',
                                  files={'model/model.onnx': support.onnx_bytes(model)}, model='model/model.onnx',
                                  signature=support.ONNX_SIGNATURE)
            """, folder.path + "/package", smokeRepositoryRoot], in: folder)
        port = try smokeFreePort()
        var environment = ["PYTHONPATH": smokeRepositoryRoot + "/templates/serving/python",
                           "MLPIPE_MODEL_DIR": folder.path + "/package", "HOST": "127.0.0.1",
                           "PORT": "\(port)", "MLPIPE_WORKERS": "1"]
        if let jwtKey { environment["MLPIPE_AUTH_JWT_KEY"] = jwtKey }
        process = try SmokeProcess([venv + "/bin/python", "-m", "mlpipe_serving"], environment: environment,
                                   log: folder.path + "/server.log")
        do {
            try await smokeWait("the serving app's /v2/health/ready", deadline: 60) { [process, port] in
                if let status = process.exitStatus {
                    throw SmokeTestError(description: "the serving app exited \(status):\n\(process.tail())")
                }
                return smokeStatus(port: port, path: "/v2/health/ready") == 200
            }
        } catch {
            process.stop()
            throw error
        }
    }

    func stop() { process.stop() }

    /// A JWT for `key` from the venv's PyJWT, valid for an hour.
    func token(key: String) async throws -> String {
        guard let venv = smokeVenv else { throw SmokeTestError(description: "MLPIPE_VENV is not set") }
        let out = try await smokeRun([venv + "/bin/python", "-c", """
            import jwt, sys, time
            print(jwt.encode({"sub": "smoke", "exp": int(time.time()) + 3600}, sys.argv[1], "HS256"))
            """, key], in: folder)
        return out.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
