import Canonical
import Foundation
@testable import S3Store
import Synchronization
import TestSupport
import Testing

/// Faults between mlpipe and the S3 server, injected by a proxy in front of the real
/// SeaweedFS: the first try of every request fails (a 500, or a reset connection), and
/// the retries must still leave exactly the right bytes on the server.
extension S3ClientTests {
    /// A plan that fails the first try of each distinct request: 500 for one, a reset
    /// connection for the next, in turn.
    static func firstTryFails() -> FaultProxy.Plan {
        let seen = Mutex<(Set<String>, Int)>(([], 0))
        return { _, method, uri in
            seen.withLock { state in
                guard state.0.insert(method + " " + uri).inserted else { return .forward }
                state.1 += 1
                return state.1 % 2 == 0 ? .reset : .status(500)
            }
        }
    }

    func throughProxy(_ proxy: FaultProxy, prefix: String, options: S3Options) -> S3Client {
        S3Client(bucket: S3Bucket(bucket: "cache", prefix: prefix, endpoint: "http://" + proxy.address),
                 credentials: S3Credentials(accessKeyID: WeedServer.accessKey, secretAccessKey: WeedServer.secretKey),
                 options: options)
    }

    static var quickRetries: S3Options {
        var options = S3Options()
        options.initialBackoff = .milliseconds(10)
        return options
    }

    @Test("500s and reset connections on the first try of every request still store and read the right bytes")
    func faultsOnFirstTries() async throws {
        _ = try await ready()
        let upstream = String(server.endpoint.dropFirst("http://".count))
        let proxy = try await FaultProxy.start(upstream: upstream, keepHost: true, plan: Self.firstTryFails())
        let client = throughProxy(proxy, prefix: "faults", options: Self.quickRetries)
        let name = "ac/" + UUID().uuidString
        let bytes = Array("the action entry".utf8)
        #expect(try await client.put(name, bytes: bytes, ifNoneMatch: true))
        #expect(try await client.get(name) == bytes)
        try await proxy.stop()

        let injected = proxy.requests.filter { $0.action != .forward }
        #expect(injected.contains { $0.action == .status(500) } && injected.contains { $0.action == .reset },
                "\(proxy.requests.map { "\($0.method) \($0.uri) \($0.action)" })")
        // Read back without the proxy: what the server holds.
        #expect(try await self.client(prefix: "faults").get(name) == bytes)
    }

    @Test("a multipart upload whose every part fails once still assembles the file byte for byte")
    func multipartWithFaults() async throws {
        _ = try await ready()
        let upstream = String(server.endpoint.dropFirst("http://".count))
        let proxy = try await FaultProxy.start(upstream: upstream, keepHost: true, plan: Self.firstTryFails())
        var options = Self.quickRetries
        options.multipartThreshold = 6 << 20
        options.partSize = 5 << 20
        options.partConcurrency = 2
        let client = throughProxy(proxy, prefix: "faults-big", options: options)
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var bytes = [UInt8](repeating: 0, count: (11 << 20) + 77)
        for index in stride(from: 0, to: bytes.count, by: 512) { bytes[index] = UInt8(truncatingIfNeeded: index / 512) }
        try Data(bytes).write(to: URL(fileURLWithPath: folder + "/source"))
        let digest = SHA256Hasher.digest(of: bytes)
        try await client.upload("cas/sha256/" + digest.hex, file: folder + "/source", size: Int64(bytes.count), sha256: digest)
        try await proxy.stop()

        let parts = proxy.requests.filter { $0.method == "PUT" && $0.uri.contains("partNumber=") }
        #expect(Set(parts.map(\.uri)).count == 3, "three parts: \(parts.map(\.uri))")
        #expect(parts.count == 6, "each part failed once and was sent again")
        let direct = self.client(prefix: "faults-big")
        #expect(try await direct.download("cas/sha256/" + digest.hex, to: folder + "/copy", digest: digest))
        #expect(FileManager.default.contents(atPath: folder + "/copy") == Data(bytes))
    }

    @Test("a server that keeps answering 503 is an error after the last try, naming the request and the tries")
    func persistentFailure() async throws {
        _ = try await ready()
        let upstream = String(server.endpoint.dropFirst("http://".count))
        let proxy = try await FaultProxy.start(upstream: upstream, keepHost: true) { _, _, _ in .status(503) }
        let client = throughProxy(proxy, prefix: "down", options: Self.quickRetries)
        await #expect {
            _ = try await client.get("ac/whatever")
        } throws: { error in
            let text = "\(error)"
            return text.contains("GET s3://cache/down/ac/whatever") && text.contains("503") && text.contains("4 attempts")
        }
        try await proxy.stop()
        #expect(proxy.requests.count == 4)
    }
}
