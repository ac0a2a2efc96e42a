import Canonical
import ContainerImage
import Foundation
import NIOConcurrencyHelpers
import TestSupport
import Testing

@Suite("Injected registry faults", .registryServer())
struct RegistryFaultTests {
    let server: RegistryTestServer

    init() throws {
        server = try #require(RegistryTestServer.current, "the suite's registry did not start")
    }

    /// One blob at a time, so that a failed request's retry is the next request; the large
    /// layer goes up in chunks, so PATCH and the closing PUT meet faults too.
    private let options = registryTestOptions(monolithicLimit: 64 << 10, chunkSize: 64 << 10, parallelUploads: 1)

    /// Pushes a fresh two-layer image through a proxy following `plan`; returns the layout,
    /// the result and the proxy's log.
    private func push(repository: String, options: RegistryOptions? = nil, plan: @escaping FaultProxy.Plan)
        async throws -> (RegistryTestLayout, Result<RegistryPushResult, any Error>, [ProxiedRequest]) {
        let layout = try RegistryTestLayout.make(layerSizes: [2000, 200_000])
        let proxy = try await FaultProxy.start(upstream: server.address, plan: plan)
        let result: Result<RegistryPushResult, any Error>
        do {
            result = .success(try await RegistryClient.with(registry: proxy.address, options: options ?? self.options) {
                try await $0.push(layout: layout.folder, repository: repository, tags: ["t"])
            })
        } catch {
            result = .failure(error)
        }
        try await proxy.stop()
        return (layout, result, proxy.requests)
    }

    @Test("500, 503 and 429 on the first tries of every kind of request still end in the right image")
    func serverErrors() async throws {
        let statuses = [500, 503, 429]
        let plan = FirstTriesFail()
        let (layout, result, requests) = try await push(repository: "faults/status") { number, method, uri in
            plan.fails(method, uri) ? .status(statuses[number % 3]) : .forward
        }
        let pushed = try result.get()
        #expect(pushed.manifestDigest == (try layout.manifestDigest()))
        let faulted = requests.filter { if case .status = $0.action { true } else { false } }
        #expect(Set(faulted.map { FirstTriesFail.kind($0.method, $0.uri) }) == FirstTriesFail.allKinds)
        try expectSkopeoCopyMatches("\(server.address)/faults/status:t", layout)
    }

    @Test("connection resets on the first tries of every kind of request still end in the right image")
    func connectionResets() async throws {
        let plan = FirstTriesFail()
        let (layout, result, requests) = try await push(repository: "faults/reset") { _, method, uri in
            plan.fails(method, uri) ? .reset : .forward
        }
        let pushed = try result.get()
        #expect(pushed.manifestDigest == (try layout.manifestDigest()))
        let reset = requests.filter { $0.action == .reset }
        #expect(Set(reset.map { FirstTriesFail.kind($0.method, $0.uri) }) == FirstTriesFail.allKinds)
        try expectSkopeoCopyMatches("\(server.address)/faults/reset:t", layout)
    }

    @Test("the manifest PUT failing four times in a row still succeeds on the fifth try")
    func manifestRetriedToTheLimit() async throws {
        let failuresLeft = NIOLockedValueBox(4)
        let (layout, result, requests) = try await push(repository: "faults/manifest") { _, method, uri in
            guard method == "PUT", uri.contains("/manifests/") else { return .forward }
            return failuresLeft.withLockedValue { left in
                left -= 1
                return left >= 0 ? .status(502) : .forward
            }
        }
        #expect(try result.get().manifestDigest == (try layout.manifestDigest()))
        #expect(requests.filter { $0.method == "PUT" && $0.path.contains("/manifests/") }.count == 5)
        try expectSkopeoCopyMatches("\(server.address)/faults/manifest:t", layout)
    }

    @Test("a 503 that outlasts every try is reported with the request and the number of tries")
    func persistentServerError() async throws {
        let (_, result, requests) = try await push(repository: "faults/down") { _, method, _ in
            method == "HEAD" ? .status(503) : .forward
        }
        let error = try #require(result.failure as? RegistryError)
        #expect(error.code == .serverError)
        #expect(error.status == 503)
        #expect(error.message.hasPrefix("registry 127.0.0.1:"))
        #expect(error.message.contains(" answered 503 to HEAD /v2/faults/down/blobs/sha256:"))
        // A HEAD answer has no body, so no error document to quote.
        #expect(error.message.contains(" after 5 tries: the registry is failing or throttling; try again later "
                                           + "or check its logs"))
        #expect(requests.filter { $0.method == "HEAD" }.count == 5)
    }

    @Test("resets that outlast every try are a connection error with the number of tries")
    func persistentResets() async throws {
        let (_, result, _) = try await push(repository: "faults/gone") { number, _, _ in
            number == 0 ? .forward : .reset
        }
        let error = try #require(result.failure as? RegistryError)
        #expect(error.code == .connectionFailed)
        #expect(error.message.contains("for HEAD /v2/faults/gone/blobs/sha256:"))
        #expect(error.message.contains(" after 5 tries ("))
    }

    @Test("a registry that reports another digest for the manifest fails the push with both digests")
    func digestMismatch() async throws {
        let bogus = "sha256:" + String(repeating: "0", count: 64)
        let (layout, result, _) = try await push(repository: "faults/liar") { _, method, uri in
            method == "PUT" && uri.contains("/manifests/") ? .forwardWithDigest(bogus) : .forward
        }
        let error = try #require(result.failure as? RegistryError)
        let ours = try layout.manifestDigest()
        #expect(error.code == .digestMismatch)
        #expect(error.message.hasSuffix("stored the manifest for 'faults/liar:t' in repository 'faults/liar' under "
                                            + "digest \(bogus), but mlpipe pushed \(ours): the registry or a proxy "
                                            + "between changed the bytes; do not use that tag until a push succeeds"))
    }
}

/// The fault plan of the recovery tests: the first tries of each kind of request fail. A
/// request that is retried on its own (the ping, HEAD, the manifest PUT) fails three times
/// in a row; a step of an upload session (POST, PATCH, the closing PUT), which restarts
/// the session, fails once; so every step meets a fault and the push still fits in five
/// tries of each.
private final class FirstTriesFail: Sendable {
    static let allKinds: Set<String> = ["GET /v2/", "HEAD blob", "POST upload", "PATCH upload", "PUT upload",
                                        "PUT manifest"]
    private let seen = NIOLockedValueBox<[String: Int]>([:])

    static func kind(_ method: String, _ uri: String) -> String {
        let path = uri.prefix { $0 != "?" }
        if path.contains("/blobs/uploads/") { return method + " upload" }
        if path.contains("/blobs/") { return method + " blob" }
        if path.contains("/manifests/") { return method + " manifest" }
        return method + " " + path
    }

    func fails(_ method: String, _ uri: String) -> Bool {
        let kind = FirstTriesFail.kind(method, uri)
        let limit = kind.hasSuffix(" upload") ? 1 : 3
        return seen.withLockedValue { seen in
            seen[kind, default: 0] += 1
            return seen[kind, default: 0] <= limit
        }
    }
}

private extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
