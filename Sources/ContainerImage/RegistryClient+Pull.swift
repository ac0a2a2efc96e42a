import Canonical
import Foundation

extension RegistryClient {
    /// Pulls the image `digest` of `repository` into an OCI image layout at `layout` (a
    /// base image given as `REGISTRY/REPO@sha256:…`), which ``OCILayoutReader`` then reads
    /// like any other; returns the digest of the manifest the layout holds.
    ///
    /// A layout already at `layout` is taken as it is (it was written whole, by this
    /// function, under the digest's name), so a base is fetched once per workspace. A
    /// multi-platform index is followed to its linux/amd64 manifest, which the layout
    /// then holds alone. The manifest is checked against `digest`, each blob (config,
    /// layers) against its descriptor while it streams to disk through a fixed buffer;
    /// everything goes into a temporary folder beside `layout`, renamed into place at the
    /// end, so a failure leaves no half layout.
    ///
    /// - Throws: ``RegistryError``: `.notFound` (no such manifest or blob), `.digestMismatch`,
    ///   `.unauthorized`, `.denied`, `.connectionFailed`, `.serverError`, `.protocolViolation`.
    @discardableResult
    public func pull(repository: String, digest: Digest, into layout: String) async throws -> Digest {
        try RegistryReference.check(repository: repository)
        let present = try? OCILayoutReader(path: layout).index()
        if let entry = present?.manifests.first, present?.manifests.count == 1 { return entry.digest }

        let parent = FileBytes.parent(of: layout)
        let temporary: String
        do {
            try FileBytes.makeDirectories(parent)
            temporary = try FileBytes.temporaryPath(in: parent, for: layout)
            try FileBytes.makeDirectories(temporary + "/blobs/sha256")
        } catch {
            throw RegistryError(.invalidLayout, "cannot make a layout for the base image at \(layout): \(error)",
                                cause: error)
        }
        do {
            let manifest = try await fetchManifest(repository: repository, digest: digest, into: temporary)
            let downloader = RegistryBlobDownloader(transport: transport, repository: repository)
            let parsed = try ImageManifest.parse(manifest.bytes, origin: "\(registry)/\(repository)@\(manifest.digest)")
            for blob in [parsed.config] + parsed.layers {
                try await downloader.download(blob, to: temporary + "/blobs/sha256/" + blob.digest.hex)
            }
            try FileBytes.writeAtomically(OCILayoutWriter.marker, to: temporary + "/oci-layout")
            let entry = Descriptor(mediaType: manifest.mediaType, digest: manifest.digest, size: Int64(manifest.bytes.count))
            try FileBytes.writeAtomically(ImageIndex(manifest: entry, tags: []).canonicalJSON(),
                                          to: temporary + "/index.json")
            if rename(temporary, layout) != 0 {
                let reason = String(cString: strerror(errno))
                // Another build pulled the same base meanwhile: keep theirs.
                guard (try? OCILayoutReader(path: layout).index()) != nil else {
                    throw RegistryError(.invalidLayout, "cannot move the pulled base image into \(layout) "
                                            + "(\(reason)); check the folder's permissions")
                }
                FileBytes.removeTree(temporary)
            }
            return manifest.digest
        } catch let error as ImageError {
            FileBytes.removeTree(temporary)
            throw RegistryError(.protocolViolation, "registry \(registry) sent a base image that cannot be used: "
                                    + error.description, cause: error)
        } catch {
            FileBytes.removeTree(temporary)
            throw error
        }
    }

    /// A manifest as fetched: its exact bytes, digest and media type.
    struct FetchedManifest {
        var bytes: [UInt8]
        var digest: Digest
        var mediaType: String
    }

    /// GET of the manifest `digest`, checked; an index is followed to its linux/amd64
    /// manifest. The manifest's bytes are written as a blob of the layout in `folder`.
    private func fetchManifest(repository: String, digest: Digest, into folder: String) async throws -> FetchedManifest {
        var wanted = digest
        for _ in 0..<2 {
            var request = RegistryRequest(method: .GET, url: transport.url("/v2/\(repository)/manifests/\(wanted)"),
                                          scopes: ["repository:\(repository):pull"])
            request.headers = [("Accept", RegistryClient.manifestTypes.joined(separator: ", "))]
            let response = try await transport.sendRetrying(request, repository: repository)
            if response.status == 404 {
                throw RegistryError(.notFound, "registry \(registry) has no manifest \(wanted) in repository "
                                        + "'\(repository)' (404): check the base image's name and digest", status: 404)
            }
            guard response.status == 200 else {
                throw RegistryError.unexpected(registry: registry, repository: repository, request: request.label,
                                               status: response.status, detail: response.detail, attempts: 1)
            }
            let bytes = Array(response.body.readableBytesView)
            guard SHA256Hasher.digest(of: bytes) == wanted else {
                throw RegistryError.digestMismatch(registry: registry, repository: repository,
                                                   what: "the manifest it sent for \(wanted)", ours: wanted,
                                                   theirs: SHA256Hasher.digest(of: bytes).description)
            }
            let mediaType = Self.mediaType(of: bytes, header: response.headers.first(name: "Content-Type"))
            if OCILayoutReader.isIndex(mediaType) {
                let index = try ImageIndex.parse(bytes, origin: "\(registry)/\(repository)@\(wanted)")
                guard let chosen = index.manifests.first(where: {
                    $0.platform?.os == "linux" && $0.platform?.architecture == "amd64"
                }) else {
                    throw RegistryError(.notFound, "the base image \(registry)/\(repository)@\(wanted) has no "
                                            + "linux/amd64 manifest; use an amd64 base image")
                }
                wanted = chosen.digest
                continue
            }
            try FileBytes.writeAtomically(bytes, to: folder + "/blobs/sha256/" + wanted.hex)
            return FetchedManifest(bytes: bytes, digest: wanted, mediaType: mediaType)
        }
        throw RegistryError(.protocolViolation, "the base image \(registry)/\(repository)@\(digest) is an index "
                                + "of indexes, which mlpipe does not follow; give the platform manifest's digest")
    }

    /// The manifest's `mediaType` field, else the Content-Type header without parameters.
    static func mediaType(of bytes: [UInt8], header: String?) -> String {
        struct Typed: Decodable { var mediaType: String? }
        if let typed = try? JSONDecoder().decode(Typed.self, from: Data(bytes)), let mediaType = typed.mediaType {
            return mediaType
        }
        let fromHeader = header.map { String($0.split(separator: ";").first ?? "").trimmingCharacters(in: .whitespaces) }
        return fromHeader.flatMap { $0.isEmpty ? nil : $0 } ?? OCIMediaType.manifest
    }
}
