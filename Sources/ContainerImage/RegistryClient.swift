import AsyncHTTPClient
import Canonical
import Foundation
import NIOHTTP1

/// A client for one registry over the OCI distribution API: pushes an image from an OCI
/// image layout, asks whether a manifest exists, resolves a tag to its digest.
///
/// What ko's `publish` and `skopeo copy` do, without a daemon. It owns one `HTTPClient`
/// (connections are pooled across blobs), so it must be shut down: use ``with(registry:credentials:options:_:)``,
/// which does so on every path, or call ``shutdown()``.
///
///     let result = try await RegistryClient.with(registry: "127.0.0.1:5000") { client in
///         try await client.push(layout: folder, image: "latest", repository: "models/iris", tags: ["1.2"])
///     }
///     print(result.reference)   // 127.0.0.1:5000/models/iris@sha256:…
///
/// Retries: HEAD, GET and PUT requests, mounts and whole upload sessions are tried up to
/// ``RegistryOptions/maxAttempts`` times on 5xx, 429, connection resets and timeouts.
public final class RegistryClient: Sendable {
    /// `host[:port]` as given.
    public let registry: String
    let transport: RegistryTransport

    /// Accept header for manifests: an image by tag may be any of these.
    static let manifestTypes = [OCIMediaType.manifest, OCIMediaType.index,
                                OCIMediaType.dockerManifest, OCIMediaType.dockerManifestList]

    /// A client for `registry` (`host[:port]`): http:// for loopback hosts or when
    /// `options.insecure`, https:// otherwise.
    public init(registry: String, credentials: RegistryCredentials = .anonymous,
                options: RegistryOptions = RegistryOptions()) {
        self.registry = registry
        self.transport = RegistryTransport(registry: registry, credentials: credentials, options: options)
    }

    /// Closes the connections. The client cannot be used afterwards.
    public func shutdown() async throws {
        try await transport.http.shutdown()
    }

    /// Runs `body` with a new client and shuts the client down afterwards, also when
    /// `body` throws.
    public static func with<Result: Sendable>(
        registry: String, credentials: RegistryCredentials = .anonymous, options: RegistryOptions = RegistryOptions(),
        _ body: (RegistryClient) async throws -> Result
    ) async throws -> Result {
        let client = RegistryClient(registry: registry, credentials: credentials, options: options)
        let result: Result
        do {
            result = try await body(client)
        } catch {
            try? await client.shutdown()  // the body's error is the one to report
            throw error
        }
        try await client.shutdown()
        return result
    }

    /// Pushes an image of the OCI image layout at `layout` to `repository`, then tags it.
    ///
    /// Each blob (layers, then config) is skipped when the registry has it, mounted from
    /// `mountFrom` (another repository of the same registry) when given and allowed, and
    /// otherwise uploaded: in one PUT up to ``RegistryOptions/monolithicLimit`` bytes, in
    /// PATCH chunks above, streamed from its file. The manifest then goes up with its own
    /// media type and exact bytes under each tag (under its digest when `tags` is empty),
    /// and the digest the registry reports is compared with ours.
    ///
    /// - Parameters:
    ///   - image: which image of the layout: its tag (the `org.opencontainers.image.ref.name`
    ///     annotation in `index.json`), its manifest digest, or nil when it holds one image.
    /// - Throws: ``RegistryError``: `.invalidLayout` before anything is sent; `.unauthorized`,
    ///   `.denied`, `.notFound`, `.serverError`, `.connectionFailed`, `.digestMismatch`.
    public func push(layout: URL, image: String? = nil, repository: String, tags: [String],
                     mountFrom: String? = nil) async throws -> RegistryPushResult {
        try RegistryReference.check(repository: repository)
        for tag in tags { try RegistryReference.check(tag: tag) }
        if let mountFrom { try RegistryReference.check(repository: mountFrom) }
        let read = try RegistryLayoutReader.read(layout: layout, image: image)
        var scopes = ["repository:\(repository):pull,push"]
        if let mountFrom, mountFrom != repository { scopes.append("repository:\(mountFrom):pull") }
        try await ping(repository: repository, scopes: scopes)

        let uploader = RegistryBlobUploader(transport: transport, repository: repository, scopes: scopes)
        let outcomes = try await pushBlobs(read.blobs, with: uploader, mountFrom: mountFrom)
        for reference in tags.isEmpty ? [read.manifestDigest.description] : tags {
            try await putManifest(read, repository: repository, reference: reference, scopes: scopes)
        }
        return RegistryPushResult(registry: registry, repository: repository, tags: tags,
                                  manifestDigest: read.manifestDigest, blobs: outcomes)
    }

    /// True when `repository` holds the manifest `digest` (HEAD /v2/<repo>/manifests/<digest>):
    /// a cached image is only reused while the registry still has it.
    public func manifestExists(repository: String, digest: Digest) async throws -> Bool {
        try RegistryReference.check(repository: repository)
        let request = manifestRequest(.HEAD, repository: repository, reference: digest.description)
        let response = try await transport.sendRetrying(request, repository: repository)
        switch response.status {
        case 200: return true
        case 404: return false
        default: throw unexpected(request, response, repository: repository)
        }
    }

    /// The digest of the manifest `tag` names in `repository` (an image or an index), for a
    /// base given by tag: resolved once, then used by digest.
    public func resolve(repository: String, tag: String) async throws -> Digest {
        try RegistryReference.check(repository: repository)
        try RegistryReference.check(tag: tag)
        let head = manifestRequest(.HEAD, repository: repository, reference: tag)
        var response = try await transport.sendRetrying(head, repository: repository)
        if response.status == 200, let header = response.headers.first(name: "Docker-Content-Digest") {
            guard let digest = Digest(parsing: header) else {
                throw RegistryError(.protocolViolation,
                                    "registry \(registry) gave '\(header)' as the digest of \(repository):\(tag)")
            }
            return digest
        }
        if response.status == 200 {
            // No Docker-Content-Digest: the digest is that of the manifest's bytes.
            let get = manifestRequest(.GET, repository: repository, reference: tag)
            response = try await transport.sendRetrying(get, repository: repository)
            if response.status == 200 { return SHA256Hasher.digest(of: response.body.readableBytesView) }
        }
        if response.status == 404 {
            throw RegistryError(.notFound, "registry \(registry) has no tag '\(tag)' in repository '\(repository)' "
                                    + "(404): check the name, or give the base by digest", status: 404)
        }
        throw unexpected(head, response, repository: repository)
    }

    /// Resolves `reference` (which must name this client's registry) to a manifest digest:
    /// its own digest when it has one, else that of its tag (`latest` when it has none).
    public func resolve(_ reference: RegistryReference) async throws -> Digest {
        if let digest = reference.digest { return digest }
        return try await resolve(repository: reference.repository, tag: reference.tag ?? "latest")
    }

    /// GET /v2/: learns the authentication scheme, and fetches a token for `scopes`, before
    /// any blob body is sent (a 401 in the middle of a streamed body would cost a resend).
    private func ping(repository: String, scopes: [String]) async throws {
        let request = RegistryRequest(method: .GET, url: transport.url("/v2/"), scopes: scopes)
        let response = try await transport.sendRetrying(request, repository: repository)
        guard response.status == 200 else {
            throw RegistryError(.notFound,
                                "\(registry) answered \(response.status) to GET /v2/: it does not serve the OCI "
                                    + "distribution API there; check the registry address", status: response.status)
        }
    }

    /// The blobs, at most ``RegistryOptions/parallelUploads`` at a time, their outcomes in
    /// the order given.
    private func pushBlobs(_ blobs: [RegistryLayoutImage.Blob], with uploader: RegistryBlobUploader,
                           mountFrom: String?) async throws -> [RegistryBlobOutcome] {
        try await withThrowingTaskGroup(of: (Int, RegistryBlobOutcome).self) { group in
            var outcomes = [RegistryBlobOutcome?](repeating: nil, count: blobs.count)
            var next = 0
            func startNext() {
                let index = next
                let blob = blobs[index]
                group.addTask { (index, try await uploader.push(blob, mountFrom: mountFrom)) }
                next += 1
            }
            while next < min(blobs.count, transport.options.parallelUploads) { startNext() }
            while let (index, outcome) = try await group.next() {
                outcomes[index] = outcome
                if next < blobs.count { startNext() }
            }
            return outcomes.compactMap { $0 }
        }
    }

    /// PUT /v2/<repo>/manifests/<reference> with the manifest's media type and bytes; the
    /// registry's Docker-Content-Digest must be ours (when it sends none, a HEAD by our
    /// digest must find the manifest).
    private func putManifest(_ image: RegistryLayoutImage, repository: String, reference: String,
                             scopes: [String]) async throws {
        let bytes = image.manifest
        var request = RegistryRequest(method: .PUT, url: transport.url("/v2/\(repository)/manifests/\(reference)"),
                                      scopes: scopes)
        request.headers = [("Content-Type", image.manifestMediaType)]
        request.body = { (.bytes(bytes), Int64(bytes.count)) }
        let response = try await transport.sendRetrying(request, repository: repository)
        guard response.status == 201 else { throw unexpected(request, response, repository: repository) }
        let what = "the manifest for '\(repository):\(reference)'"
        if let theirs = response.headers.first(name: "Docker-Content-Digest") {
            guard Digest(parsing: theirs) == image.manifestDigest else {
                throw RegistryError.digestMismatch(registry: registry, repository: repository, what: what,
                                                   ours: image.manifestDigest, theirs: theirs)
            }
        } else if try await !manifestExists(repository: repository, digest: image.manifestDigest) {
            throw RegistryError.digestMismatch(registry: registry, repository: repository, what: what,
                                               ours: image.manifestDigest, theirs: "another digest (none reported)")
        }
    }

    private func manifestRequest(_ method: HTTPMethod, repository: String, reference: String) -> RegistryRequest {
        var request = RegistryRequest(method: method, url: transport.url("/v2/\(repository)/manifests/\(reference)"),
                                      scopes: ["repository:\(repository):pull"])
        request.headers = [("Accept", RegistryClient.manifestTypes.joined(separator: ", "))]
        return request
    }

    private func unexpected(_ request: RegistryRequest, _ response: RegistryResponse, repository: String) -> RegistryError {
        RegistryError.unexpected(registry: registry, repository: repository, request: request.label,
                                 status: response.status, detail: response.detail, attempts: 1)
    }
}
