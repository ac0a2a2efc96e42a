import Canonical
import ContainerImage
import Foundation
import Testing

/// An OCI image layout made by umoci in a temporary folder (removed with the value): an
/// image `tag` with one layer per entry of `layerSizes`, each a file of that many random
/// bytes, so that no two tests share a blob.
final class RegistryTestLayout: Sendable {
    let temporary: TempFolder
    let folder: URL
    let tag: String
    var path: String { folder.path }

    private init(temporary: TempFolder, folder: URL, tag: String) {
        self.temporary = temporary
        self.folder = folder
        self.tag = tag
    }

    static func make(tag: String = "latest", layerSizes: [Int] = [1000]) throws -> RegistryTestLayout {
        let temporary = try TempFolder("push")
        let layout = temporary.path + "/layout"
        try tool("umoci", "init", "--layout", layout)
        try tool("umoci", "new", "--image", "\(layout):\(tag)")
        for (number, size) in layerSizes.enumerated() {
            let random = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/dev/urandom"))
            let bytes = try random.read(upToCount: size) ?? Data()
            try random.close()
            let file = try temporary.write("file\(number).bin", bytes: Array(bytes))
            try tool("umoci", "insert", "--image", "\(layout):\(tag)", file, "/data/file\(number).bin")
        }
        return RegistryTestLayout(temporary: temporary, folder: URL(fileURLWithPath: layout), tag: tag)
    }

    /// A layout someone else wrote (skopeo copy's output).
    init(existing path: String, tag: String) throws {
        temporary = try TempFolder("push-copy")
        folder = URL(fileURLWithPath: path)
        self.tag = tag
    }

    /// The manifest digest index.json gives for the first image.
    func manifestDigest() throws -> Digest {
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("index.json")))
        let manifests = (index as? [String: Any])?["manifests"] as? [[String: Any]] ?? []
        let text = manifests.first?["digest"] as? String ?? ""
        return try #require(Digest(parsing: text))
    }

    /// The bytes of blob `digest`.
    func blob(_ digest: Digest) throws -> Data {
        try Data(contentsOf: folder.appendingPathComponent("blobs/sha256/\(digest.hex)"))
    }

    /// Layer digests in order, then the config's, from the manifest.
    func blobDigests() throws -> [Digest] {
        let manifest = try JSONSerialization.jsonObject(with: blob(manifestDigest())) as? [String: Any] ?? [:]
        let layers = (manifest["layers"] as? [[String: Any]] ?? []).compactMap { $0["digest"] as? String }
        let config = (manifest["config"] as? [String: Any])?["digest"] as? String
        return (layers + [config].compactMap { $0 }).compactMap(Digest.init(parsing:))
    }
}

/// What skopeo sees in a registry: `skopeo inspect` (digest, layers) and the raw manifest.
struct SkopeoView {
    var digest: String
    var layers: [String]
    var rawManifest: Data

    static func inspect(_ reference: String) throws -> SkopeoView {
        let text = try tool("skopeo", "inspect", "--tls-verify=false", "docker://\(reference)")
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
        let raw = try tool("skopeo", "inspect", "--raw", "--tls-verify=false", "docker://\(reference)")
        return SkopeoView(digest: object["Digest"] as? String ?? "", layers: object["Layers"] as? [String] ?? [],
                          rawManifest: Data(raw.utf8))
    }
}

/// Copies `reference` out of the registry with skopeo into a fresh OCI layout and checks
/// that its manifest digest and every blob are byte-for-byte those of `layout`.
func expectSkopeoCopyMatches(_ reference: String, _ layout: RegistryTestLayout,
                             sourceLocation: SourceLocation = #_sourceLocation) throws {
    let out = try TempFolder("push-copy")
    try tool("skopeo", "copy", "--src-tls-verify=false", "docker://\(reference)", "oci:\(out.path)/oci:copied")
    let copied = try RegistryTestLayout(existing: out.path + "/oci", tag: "copied")
    #expect(try copied.manifestDigest() == layout.manifestDigest(), sourceLocation: sourceLocation)
    let digests = try layout.blobDigests()
    #expect(try copied.blobDigests() == digests, sourceLocation: sourceLocation)
    for digest in digests {
        #expect(try copied.blob(digest) == layout.blob(digest), "blob \(digest)", sourceLocation: sourceLocation)
    }
}

/// Options for tests: quick back-off so that retries do not slow the suite down.
func registryTestOptions(maxAttempts: Int = 5, monolithicLimit: Int64 = 32 << 20, chunkSize: Int64 = 64 << 20,
                         parallelUploads: Int = 3) -> RegistryOptions {
    RegistryOptions(maxAttempts: maxAttempts, initialBackoff: .milliseconds(10), maxBackoff: .milliseconds(100),
                    monolithicLimit: monolithicLimit, chunkSize: chunkSize, readBufferSize: 64 << 10,
                    parallelUploads: parallelUploads, connectTimeout: 5, readTimeout: 30)
}
