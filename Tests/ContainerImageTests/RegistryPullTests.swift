import Canonical
import ContainerImage
import Foundation
import NIOConcurrencyHelpers
import TestSupport
import Testing

@Suite("Pulling a base image from docker-registry", .registryServer())
struct RegistryPullTests {
    let server: RegistryTestServer

    init() throws {
        server = try #require(RegistryTestServer.current, "the suite's registry did not start")
    }

    /// Pushes a fresh layout as `repository:t` with skopeo (someone else's tool).
    private func pushedBySkopeo(_ repository: String, layerSizes: [Int]) throws -> RegistryTestLayout {
        let layout = try RegistryTestLayout.make(tag: "t", layerSizes: layerSizes)
        try tool("skopeo", "copy", "--dest-tls-verify=false", "oci:\(layout.path):t", "docker://\(server.address)/\(repository):t")
        return layout
    }

    @Test("a tag resolves to the digest skopeo pushed, and the pulled layout holds the same manifest, config and layers")
    func pullByTagAndDigest() async throws {
        let layout = try pushedBySkopeo("bases/one", layerSizes: [3000, 70_000])
        let target = try TempFolder("pull")
        let reference = try RegistryReference(parsing: "\(server.address)/bases/one:t")
        let (digest, pulled) = try await RegistryClient.with(registry: server.address, options: registryTestOptions()) {
            client in
            let digest = try await client.resolve(reference)
            return (digest, try await client.pull(repository: "bases/one", digest: digest, into: target.path + "/base"))
        }
        #expect(digest == (try layout.manifestDigest()))
        #expect(pulled == digest)
        let image = try OCILayoutReader(path: target.path + "/base").image()
        #expect(image.digest == digest)
        for blob in try layout.blobDigests() {
            #expect(try Data(contentsOf: URL(fileURLWithPath: target.path + "/base/blobs/sha256/" + blob.hex))
                    == (try layout.blob(blob)))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: target.path) == ["base"])

        // Pulled again into the same folder: taken as it is, nothing fetched.
        let proxy = try await FaultProxy.start(upstream: server.address)
        _ = try await RegistryClient.with(registry: proxy.address, options: registryTestOptions()) { client in
            try await client.pull(repository: "bases/one", digest: digest, into: target.path + "/base")
        }
        try await proxy.stop()
        #expect(proxy.requests.isEmpty)
    }

    @Test("500s and connection resets on the first try of every request still end in a complete, checked layout")
    func pullThroughFaults() async throws {
        let layout = try pushedBySkopeo("bases/faults", layerSizes: [5000, 90_000])
        let digest = try layout.manifestDigest()
        let seen = NIOLockedValueBox<Set<String>>([])
        let proxy = try await FaultProxy.start(upstream: server.address) { number, method, uri in
            let first = seen.withLockedValue { $0.insert(method + " " + uri).inserted }
            guard first, uri.hasPrefix("/v2/bases/") else { return .forward }
            return number % 2 == 0 ? .status(503) : .reset
        }
        let target = try TempFolder("pull-faults")
        _ = try await RegistryClient.with(registry: proxy.address, options: registryTestOptions()) { client in
            try await client.pull(repository: "bases/faults", digest: digest, into: target.path + "/base")
        }
        try await proxy.stop()
        #expect(try OCILayoutReader(path: target.path + "/base").image().digest == digest)
        #expect(proxy.requests.contains { $0.method == "GET" && $0.uri.contains("/blobs/") && $0.action != .forward })
    }

    @Test("a digest the registry does not have is a 404 naming the repository and digest, and leaves no folder")
    func missingManifest() async throws {
        let target = try TempFolder("pull-missing")
        let digest = SHA256Hasher.digest(of: Array("no such manifest".utf8))
        let error = await #expect(throws: RegistryError.self) {
            try await RegistryClient.with(registry: server.address, options: registryTestOptions()) { client in
                try await client.pull(repository: "bases/none", digest: digest, into: target.path + "/base")
            }
        }
        #expect(error?.code == .notFound)
        #expect(error?.message.contains("no manifest \(digest) in repository 'bases/none'") == true, "\(String(describing: error))")
        #expect(try FileManager.default.contentsOfDirectory(atPath: target.path).isEmpty)
    }
}
