import Canonical
import HTTPTransport
import NIOHTTP1

/// Gets one blob into a repository the cheapest way the registry allows: nothing when a
/// HEAD finds it, a cross-repository mount when a source repository is given, otherwise an
/// upload session (POST, then one PUT for a small blob, or PATCH chunks and a closing PUT
/// for a large one), streamed from the file.
///
/// An upload session that fails in a way worth retrying (5xx, 429, a reset or timeout, or
/// a session the registry forgot) is abandoned and a new one started from POST, after a
/// back-off and a HEAD in case the blob arrived after all.
struct RegistryBlobUploader: Sendable {
    let transport: RegistryTransport
    let repository: String
    /// Token scopes: push to `repository`, and pull from the mount source when there is one.
    let scopes: [String]

    private var options: RegistryOptions { transport.options }
    private var blobsPath: String { "/v2/\(repository)/blobs/" }

    func push(_ blob: RegistryLayoutImage.Blob, mountFrom: String?) async throws -> RegistryBlobOutcome {
        func outcome(_ transfer: RegistryBlobTransfer) -> RegistryBlobOutcome {
            RegistryBlobOutcome(digest: blob.digest, size: blob.size, transfer: transfer)
        }
        if try await exists(blob) { return outcome(.alreadyPresent) }
        var session: String?
        if let mountFrom, mountFrom != repository {
            switch try await mount(blob, from: mountFrom) {
            case .mounted: return outcome(.mounted(from: mountFrom))
            case .session(let location): session = location
            }
        }
        var attempt = 1
        while true {
            do {
                let location: String
                if let open = session {
                    location = open
                    session = nil
                } else {
                    location = try await startSession()
                }
                return outcome(try await upload(blob, to: location))
            } catch let retry as SessionFailure {
                guard attempt < options.maxAttempts else { throw retry.error(attempts: attempt) }
                try await Task.sleep(for: options.backoff(afterAttempt: attempt, retryAfter: retry.retryAfter))
                attempt += 1
                // A PUT that closes the session may have landed even though its answer was lost.
                if retry.afterClosingPut, try await exists(blob) { return outcome(.uploadedWhole) }
            }
        }
    }

    /// HEAD /v2/<repo>/blobs/<digest>: 200 means present, 404 absent.
    func exists(_ blob: RegistryLayoutImage.Blob) async throws -> Bool {
        let request = RegistryRequest(method: .HEAD, url: transport.url(blobsPath + blob.digest.description),
                                      scopes: scopes)
        let response = try await transport.sendRetrying(request, repository: repository)
        switch response.status {
        case 200: return true
        case 404: return false
        default: throw failure(request, response)
        }
    }

    private enum MountResult { case mounted, session(String) }

    /// POST ?mount=&from=: 201 is a mount; 202 means the registry declined and opened an
    /// upload session instead, which the upload then uses.
    private func mount(_ blob: RegistryLayoutImage.Blob, from source: String) async throws -> MountResult {
        let request = RegistryRequest(
            method: .POST, url: transport.url(blobsPath + "uploads/?mount=\(blob.digest)&from=\(source)"),
            scopes: scopes)
        let response = try await transport.sendRetrying(request, repository: repository)
        switch response.status {
        case 201:
            try checkDigest(response, blob)
            return .mounted
        case 202:
            return .session(try location(response, request))
        default:
            throw failure(request, response)
        }
    }

    /// POST /v2/<repo>/blobs/uploads/ -> the session's Location.
    private func startSession() async throws -> String {
        let request = RegistryRequest(method: .POST, url: transport.url(blobsPath + "uploads/"), scopes: scopes)
        let response = try await step(request, expecting: 202)
        return try location(response, request)
    }

    /// Sends the bytes into the session at `location` and closes it with the digest.
    private func upload(_ blob: RegistryLayoutImage.Blob, to location: String) async throws -> RegistryBlobTransfer {
        let path = blob.path
        let bufferSize = options.readBufferSize
        if blob.size <= options.monolithicLimit {
            var request = RegistryRequest(method: .PUT, url: RegistryBlobUploader.adding(digest: blob.digest, to: location),
                                          scopes: scopes)
            request.headers = [("Content-Type", "application/octet-stream")]
            if blob.size > 0 {
                request.body = {
                    try FileRangeBody(path: path, offset: 0, length: blob.size, bufferSize: bufferSize).body()
                }
            }
            let response = try await step(request, expecting: 201)
            try checkDigest(response, blob)
            return .uploadedWhole
        }
        var location = location
        var offset: Int64 = 0
        var chunks = 0
        while offset < blob.size {
            let start = offset
            let length = min(options.chunkSize, blob.size - start)
            var request = RegistryRequest(method: .PATCH, url: location, scopes: scopes)
            request.headers = [("Content-Type", "application/octet-stream"),
                               ("Content-Range", "\(start)-\(start + length - 1)")]
            request.body = {
                try FileRangeBody(path: path, offset: start, length: length, bufferSize: bufferSize).body()
            }
            let response = try await step(request, expecting: 202)
            // Range: 0-<last byte received>; a registry that holds less lost part of the chunk.
            if let range = response.headers.first(name: "Range"),
               let last = range.split(separator: "-").last.flatMap({ Int64($0) }), last != start + length - 1 {
                throw SessionFailure(error: RegistryError(
                    .protocolViolation,
                    "registry \(transport.registry) acknowledged bytes up to \(last) of blob \(blob.digest) after "
                        + "\(request.label) sent up to \(start + length - 1)"), retryAfter: nil, afterClosingPut: false)
            }
            location = try self.location(response, request)
            offset += length
            chunks += 1
        }
        let close = RegistryRequest(method: .PUT, url: RegistryBlobUploader.adding(digest: blob.digest, to: location),
                                    scopes: scopes)
        let response = try await step(close, expecting: 201)
        try checkDigest(response, blob)
        return .uploadedInChunks(chunks)
    }

    /// One request of an upload session, sent once: an answer worth retrying throws
    /// ``SessionFailure`` (the session restarts), any other unexpected one the final error.
    private func step(_ request: RegistryRequest, expecting status: Int) async throws -> RegistryResponse {
        let response: RegistryResponse
        do {
            response = try await transport.send(request, repository: repository)
        } catch let failure as ConnectionFailure {
            let error = failure.error(registry: transport.registry, request: request.label, attempts: 1)
            guard failure.retryable else { throw error }
            throw SessionFailure(error: error, retryAfter: nil, afterClosingPut: request.method == .PUT)
        }
        if response.status == status { return response }
        // 404 inside a session: the registry forgot it (expired, restarted); start over.
        let restart = ConnectionFailure.isRetryable(status: response.status)
            || (response.status == 404 && request.method != .POST)
        guard restart else { throw failure(request, response) }
        throw SessionFailure(error: failure(request, response),
                             retryAfter: RegistryTransport.retryAfter(response.headers),
                             afterClosingPut: request.method == .PUT)
    }

    private func location(_ response: RegistryResponse, _ request: RegistryRequest) throws -> String {
        guard let location = response.headers.first(name: "Location"), !location.isEmpty else {
            throw RegistryError(.protocolViolation,
                                "registry \(transport.registry) answered \(request.label) with \(response.status) "
                                    + "but no Location for the upload session")
        }
        return transport.url(location)
    }

    /// The registry's Docker-Content-Digest for a blob, when it sends one, must be ours.
    private func checkDigest(_ response: RegistryResponse, _ blob: RegistryLayoutImage.Blob) throws {
        guard let theirs = response.headers.first(name: "Docker-Content-Digest") else { return }
        guard Digest(parsing: theirs) == blob.digest else {
            throw RegistryError.digestMismatch(registry: transport.registry, repository: repository,
                                               what: "blob \(blob.digest)", ours: blob.digest, theirs: theirs)
        }
    }

    private func failure(_ request: RegistryRequest, _ response: RegistryResponse) -> RegistryError {
        RegistryError.unexpected(registry: transport.registry, repository: repository, request: request.label,
                                 status: response.status, detail: response.detail, attempts: 1)
    }

    /// `location` with `digest=<digest>` added to its query (a session's Location may have one).
    static func adding(digest: Digest, to location: String) -> String {
        location + (location.contains("?") ? "&" : "?") + "digest=" + digest.description
    }
}

/// A failed step of an upload session that a new session may get past.
private struct SessionFailure: Error {
    let finalError: RegistryError
    let retryAfter: Duration?
    /// The step that failed was the PUT that closes the session: the blob may be there.
    let afterClosingPut: Bool

    init(error: RegistryError, retryAfter: Duration?, afterClosingPut: Bool) {
        self.finalError = error
        self.retryAfter = retryAfter
        self.afterClosingPut = afterClosingPut
    }

    /// The error to report when no tries are left, saying how many there were.
    func error(attempts: Int) -> RegistryError {
        guard attempts > 1 else { return finalError }
        return RegistryError(finalError.code, finalError.message + " (after \(attempts) upload sessions)",
                             status: finalError.status, cause: finalError.cause)
    }
}
