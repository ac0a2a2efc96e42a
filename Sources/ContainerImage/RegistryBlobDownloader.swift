import AsyncHTTPClient
import Canonical
import Foundation
import HTTPTransport
import NIOCore
import NIOHTTP1

/// Downloads blobs of one repository to files: GET /v2/<repo>/blobs/<digest>, the body
/// streamed through a fixed buffer to a temporary file, hashed on the way, and renamed
/// into place only when its size and digest are the descriptor's.
///
/// Memory does not grow with a blob's size. A HEAD goes first through the transport's
/// usual path, which answers an authentication challenge (and caches a Bearer token for
/// the pull scope), so the streamed GET carries the credentials from its first byte. A
/// 5xx, 429, reset or timeout is retried as every other request is; a blob whose bytes
/// do not hash to its digest is not (the registry would send the same bytes again).
struct RegistryBlobDownloader: Sendable {
    let transport: RegistryTransport
    let repository: String

    var scopes: [String] { ["repository:\(repository):pull"] }

    /// Writes the blob `blob` to `path` (replacing nothing: an existing file of the right
    /// size is kept as it is).
    func download(_ blob: Descriptor, to path: String) async throws {
        if let stamp = try? FileStamp(path: path), stamp.isRegularFile, stamp.size == blob.size { return }
        let url = transport.url("/v2/\(repository)/blobs/\(blob.digest)")
        let head = RegistryRequest(method: .HEAD, url: url, scopes: scopes)
        let checked = try await transport.sendRetrying(head, repository: repository)
        try expectFound(checked, head, blob)
        let get = RegistryRequest(method: .GET, url: url, scopes: scopes)
        let response = try await transport.retrying(get, repository: repository) { request in
            try await fetch(request, blob, to: path)
        }
        try expectFound(response, get, blob)
    }

    private func expectFound(_ response: RegistryResponse, _ request: RegistryRequest, _ blob: Descriptor) throws {
        if response.status == 200 { return }
        if response.status == 404 {
            throw RegistryError(.notFound, "registry \(transport.registry) has no blob \(blob.digest) in repository "
                                    + "'\(repository)' (404), which the base image's manifest names; the image is "
                                    + "incomplete there: push it again or use another base", status: 404)
        }
        throw RegistryError.unexpected(registry: transport.registry, repository: repository, request: request.label,
                                       status: response.status, detail: response.detail, attempts: 1)
    }

    /// One GET; on 200 the body goes to `path`, and the response comes back without it.
    private func fetch(_ request: RegistryRequest, _ blob: Descriptor, to path: String) async throws -> RegistryResponse {
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = .GET
        if let authorization = await transport.auth.authorization(scopes: request.scopes) {
            outgoing.headers.replaceOrAdd(name: "Authorization", value: authorization)
        }
        let response: HTTPClientResponse
        do {
            response = try await transport.http.execute(outgoing, deadline: .now() + .hours(6))
        } catch {
            if error is CancellationError || Task.isCancelled { throw CancellationError() }
            throw ConnectionFailure(error, peer: "the registry")
        }
        guard response.status == .ok else {
            let body = (try? await response.body.collect(upTo: 1 << 20)) ?? ByteBuffer()
            return RegistryResponse(status: Int(response.status.code), headers: response.headers, body: body)
        }
        let temporary = FileBytes.parent(of: path) + "/.download-\(blob.digest.hex.prefix(12))-\(UInt32.random(in: 0...UInt32.max))"
        do {
            let file = try OutputFile(creating: temporary)
            var hasher = SHA256Hasher()
            var size: Int64 = 0
            do {
                for try await chunk in response.body {
                    size += Int64(chunk.readableBytes)
                    guard size <= blob.size else { break }
                    try chunk.withUnsafeReadableBytes { bytes in
                        hasher.update(bytes)
                        try file.write(bytes)
                    }
                }
            } catch let error as ImageError {
                throw error
            } catch {
                if error is CancellationError || Task.isCancelled { throw CancellationError() }
                throw ConnectionFailure(error, peer: "the registry")   // cut off mid-body: worth another try
            }
            try file.close(sync: false)
            let digest = hasher.finalize()
            guard size == blob.size, digest == blob.digest else {
                throw RegistryError.digestMismatch(
                    registry: transport.registry, repository: repository, what: "the blob \(blob.digest)",
                    ours: blob.digest, theirs: size == blob.size ? digest.description : "\(size)+ bytes, not \(blob.size)")
            }
            guard rename(temporary, path) == 0 else { throw ImageError.system("rename into place", path) }
        } catch let error as ImageError {
            unlink(temporary)
            throw RegistryError(.invalidLayout, "cannot write the blob \(blob.digest) to \(path): \(error.description)",
                                cause: error)
        } catch {
            unlink(temporary)
            throw error
        }
        return RegistryResponse(status: 200, headers: response.headers, body: ByteBuffer())
    }
}
