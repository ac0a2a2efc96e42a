import Canonical
@testable import ContainerImage
import Foundation
import Testing

@Suite("docker load archive")
struct DockerArchiveTests {
    @Test("manifest.json names the config, the layers in order and the tags, and each path is in the archive")
    func manifest() throws {
        let folder = try TempFolder()
        let image = try LayoutTests.buildImage(in: folder)
        let archive = folder.path + "/out/image.tar"
        try DockerArchiveWriter(path: archive, mtime: 1_764_504_000).write(image, repositoryTags: ["iris:latest", "iris:1"])
        let listing = try TarListing(try fileBytes(archive))
        let files = Dictionary(listing.entries.map { ($0.path, $0.content) }, uniquingKeysWith: { first, _ in first })
        let manifestBytes = try #require(files["manifest.json"])
        let manifest = try #require(JSONSerialization.jsonObject(with: Data(manifestBytes)) as? [[String: Any]])
        #expect(manifest.count == 1)
        let config = try #require(manifest[0]["Config"] as? String)
        #expect(config == "blobs/sha256/" + image.configDigest.hex)
        #expect(files[config] == image.configBytes)
        let layers = try #require(manifest[0]["Layers"] as? [String])
        #expect(layers == image.layers.map { "blobs/sha256/" + $0.digest.hex })
        for (path, layer) in zip(layers, image.layers) {
            #expect(files[path].map { SHA256Hasher.digest(of: $0) } == layer.digest)
        }
        #expect(manifest[0]["RepoTags"] as? [String] == ["iris:1", "iris:latest"])
        let repositoriesBytes = try #require(files["repositories"])
        let repositories = try JSONSerialization.jsonObject(with: Data(repositoriesBytes))
        #expect(repositories as? [String: [String: String]] == ["iris": ["1": image.configDigest.hex, "latest": image.configDigest.hex]])
        // The archive is an OCI layout too (as `docker save` writes since Docker 25).
        #expect(files["oci-layout"] == Array("{\"imageLayoutVersion\":\"1.0.0\"}".utf8))
        #expect(files["blobs/sha256/" + image.digest.hex] == image.manifestBytes)
        #expect(listing.entries.allSatisfy { $0.uid == 0 && $0.mtime == 1_764_504_000 })
        // skopeo reads it as `docker load` does (docker-archive: manifest.json, config, layers).
        let inspected = try JSONSerialization.jsonObject(
            with: Data(try tool("skopeo", "inspect", "docker-archive:\(archive):iris:1").utf8)) as? [String: Any]
        #expect(inspected?["Layers"] as? [String] == image.layers.map(\.diffID.description))   // skopeo names them uncompressed
        #expect(inspected?["Architecture"] as? String == "amd64")
        let unpacked = folder.path + "/unpacked"
        try FileManager.default.createDirectory(atPath: unpacked, withIntermediateDirectories: true)
        try tool("tar", "-xf", archive, "-C", unpacked)
        #expect(try OCILayoutReader(path: unpacked).image(tag: "latest").digest == image.digest)
    }

    @Test("the same image and tags give the same archive bytes")
    func reproducible() throws {
        let folder = try TempFolder()
        let image = try LayoutTests.buildImage(in: folder)
        let writer = { (name: String) in
            try DockerArchiveWriter(path: folder.path + "/" + name, mtime: 7).write(image, repositoryTags: ["m:1"])
        }
        try writer("a.tar")
        try writer("b.tar")
        #expect(try fileBytes(folder.path + "/a.tar") == fileBytes(folder.path + "/b.tar"))
    }
}
