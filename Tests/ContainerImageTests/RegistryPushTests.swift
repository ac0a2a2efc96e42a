import Canonical
import ContainerImage
import Foundation
import TestSupport
import Testing

@Suite("Pushing a layout to docker-registry", .registryServer())
struct RegistryPushTests {
    let server: RegistryTestServer

    init() throws {
        server = try #require(RegistryTestServer.current, "the suite's registry did not start")
    }

    @Test("a pushed layout is what skopeo inspects and copies back, under every tag")
    func pushAndInspect() async throws {
        let layout = try RegistryTestLayout.make(tag: "v1", layerSizes: [2000, 50_000])
        let result = try await RegistryClient.with(registry: server.address, options: registryTestOptions()) { client in
            try await client.push(layout: layout.folder, image: "v1", repository: "models/iris", tags: ["1.0", "stable"])
        }
        let digest = try layout.manifestDigest()
        #expect(result.manifestDigest == digest)
        #expect(result.reference == "\(server.address)/models/iris@\(digest)")
        #expect(result.blobs.map(\.digest) == (try layout.blobDigests()))
        #expect(result.blobs.allSatisfy { $0.transfer == .uploadedWhole })

        for tag in ["1.0", "stable"] {
            let view = try SkopeoView.inspect("\(server.address)/models/iris:\(tag)")
            #expect(view.digest == digest.description)
            #expect(view.layers == (try layout.blobDigests().dropLast().map(\.description)))
            #expect(view.rawManifest == (try layout.blob(digest)))
        }
        try expectSkopeoCopyMatches("\(server.address)/models/iris:1.0", layout)
    }

    @Test("an image named by its manifest digest and pushed without tags is there by digest")
    func pushByDigest() async throws {
        let layout = try RegistryTestLayout.make(tag: "named", layerSizes: [300])
        let digest = try layout.manifestDigest()
        let result = try await RegistryClient.with(registry: server.address, options: registryTestOptions()) { client in
            try await client.push(layout: layout.folder, image: digest.description, repository: "by/digest", tags: [])
        }
        #expect(result.manifestDigest == digest)
        #expect(result.tags.isEmpty)
        // No tag, so no tag list: skopeo reads the manifest by digest only.
        let raw = try tool("skopeo", "inspect", "--raw", "--tls-verify=false", "docker://\(server.address)/by/digest@\(digest)")
        #expect(Data(raw.utf8) == (try layout.blob(digest)))
    }

    @Test("a second push of the same image sends no blob: only HEADs and the manifest")
    func secondPushSkipsBlobs() async throws {
        let layout = try RegistryTestLayout.make(layerSizes: [3000, 4000])
        let proxy = try await FaultProxy.start(upstream: server.address)
        let first = try await RegistryClient.with(registry: proxy.address, options: registryTestOptions()) { client in
            try await client.push(layout: layout.folder, repository: "skip/again", tags: ["a"])
        }
        let firstCount = proxy.requests.count
        let second = try await RegistryClient.with(registry: proxy.address, options: registryTestOptions()) { client in
            try await client.push(layout: layout.folder, repository: "skip/again", tags: ["a"])
        }
        try await proxy.stop()
        let secondRequests = proxy.requests.dropFirst(firstCount)

        #expect(first.blobs.allSatisfy { $0.transfer == .uploadedWhole })
        #expect(second.blobs.allSatisfy { $0.transfer == .alreadyPresent })
        #expect(second.uploadedBytes == 0)
        #expect(second.manifestDigest == first.manifestDigest)
        let kinds = secondRequests.map { "\($0.method) \($0.path.contains("/blobs/") ? "blob" : $0.path)" }.sorted()
        #expect(kinds == ["GET /v2/", "HEAD blob", "HEAD blob", "HEAD blob", "PUT /v2/skip/again/manifests/a"])
    }

    @Test("a blob that another repository of the registry holds is mounted, not uploaded")
    func crossRepositoryMount() async throws {
        let layout = try RegistryTestLayout.make(layerSizes: [5000])
        let proxy = try await FaultProxy.start(upstream: server.address)
        try await RegistryClient.with(registry: proxy.address, options: registryTestOptions()) { client in
            _ = try await client.push(layout: layout.folder, repository: "mount/source", tags: ["x"])
            let before = proxy.requests.count
            let result = try await client.push(layout: layout.folder, repository: "mount/target", tags: ["x"],
                                               mountFrom: "mount/source")
            let requests = proxy.requests.dropFirst(before)
            #expect(result.blobs.allSatisfy { $0.transfer == .mounted(from: "mount/source") })
            #expect(requests.filter { $0.uri.contains("mount=") && $0.uri.contains("from=mount/source") }.count == 2)
            #expect(!requests.contains { $0.method == "PATCH" || ($0.method == "PUT" && $0.path.contains("/blobs/")) })
        }
        try await proxy.stop()
        try expectSkopeoCopyMatches("\(server.address)/mount/target:x", layout)
    }

    @Test("a blob above the monolithic limit goes up in PATCH chunks, byte for byte")
    func chunkedUpload() async throws {
        let layout = try RegistryTestLayout.make(layerSizes: [3 << 20])
        let proxy = try await FaultProxy.start(upstream: server.address)
        let options = registryTestOptions(monolithicLimit: 1 << 20, chunkSize: 1 << 20)
        let result = try await RegistryClient.with(registry: proxy.address, options: options) { client in
            try await client.push(layout: layout.folder, repository: "chunked/big", tags: ["t"])
        }
        try await proxy.stop()
        let layer = try #require(result.blobs.first)
        // umoci's gzip of 3 MiB of random bytes is a little over 3 MiB: four chunks.
        #expect(layer.transfer == .uploadedInChunks(4))
        #expect(proxy.requests.filter { $0.method == "PATCH" }.count == 4)
        #expect(result.blobs.last?.transfer == .uploadedWhole)  // the config is small
        try expectSkopeoCopyMatches("\(server.address)/chunked/big:t", layout)
    }

    @Test("manifestExists and resolve see a pushed image, and only it")
    func existsAndResolve() async throws {
        let layout = try RegistryTestLayout.make(layerSizes: [100])
        let digest = try layout.manifestDigest()
        try await RegistryClient.with(registry: server.address, options: registryTestOptions()) { client in
            #expect(try await !client.manifestExists(repository: "resolve/me", digest: digest))
            _ = try await client.push(layout: layout.folder, repository: "resolve/me", tags: ["base"])
            #expect(try await client.manifestExists(repository: "resolve/me", digest: digest))
            #expect(try await client.resolve(repository: "resolve/me", tag: "base") == digest)
            let reference = try RegistryReference(parsing: "\(server.address)/resolve/me:base")
            #expect(try await client.resolve(reference) == digest)
            let error = await #expect(throws: RegistryError.self) {
                try await client.resolve(repository: "resolve/me", tag: "nope")
            }
            #expect(error?.code == .notFound)
            #expect(error?.description == "registry \(server.address) has no tag 'nope' in repository 'resolve/me' "
                        + "(404): check the name, or give the base by digest")
        }
    }

    @Test("a registry that is not running is a connection error naming it, without retries")
    func connectionRefused() async throws {
        let layout = try RegistryTestLayout.make(layerSizes: [100])
        let address = "127.0.0.1:\(try RegistryTestServer.freePort())"
        let error = await #expect(throws: RegistryError.self) {
            try await RegistryClient.with(registry: address, options: registryTestOptions()) { client in
                try await client.push(layout: layout.folder, repository: "nobody/home", tags: ["t"])
            }
        }
        #expect(error?.code == .connectionFailed)
        // One try: a retried failure would say "after N tries".
        #expect(error?.message == "cannot reach registry \(address) for GET /v2/ (connection refused): is it running, "
                    + "and are the address and http/https (insecure) setting right?")
    }

    @Test("a folder that is not an OCI layout is refused before anything is sent")
    func notALayout() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-layout-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let error = await #expect(throws: RegistryError.self) {
            try await RegistryClient.with(registry: server.address, options: registryTestOptions()) { client in
                try await client.push(layout: folder, repository: "a/b", tags: ["t"])
            }
        }
        #expect(error?.code == .invalidLayout)
        #expect(error?.message.hasPrefix("'\(folder.path)' is not an OCI image layout: it has no oci-layout file; ") == true)
    }

    @Test("an image the layout does not hold is named with the ones it does")
    func unknownImageInLayout() async throws {
        let layout = try RegistryTestLayout.make(tag: "present", layerSizes: [10])
        let error = await #expect(throws: RegistryError.self) {
            try await RegistryClient.with(registry: server.address, options: registryTestOptions()) { client in
                try await client.push(layout: layout.folder, image: "absent", repository: "a/b", tags: ["t"])
            }
        }
        #expect(error?.description == "the layout '\(layout.path)' has no image tagged 'absent'; its tags are: present")
    }
}
