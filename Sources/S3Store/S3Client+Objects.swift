import AsyncHTTPClient
import Canonical
import Foundation
import NIOCore
import NIOHTTP1

extension S3Client {
    /// Checks that the bucket exists and the credentials may use it (`HEAD /bucket`).
    public func checkBucket() async throws(S3Error) {
        let request = S3Request(method: .HEAD, key: nil)
        let answer = try await send(request)
        guard answer.status == 200 else { throw failure(answer, request: request) }
    }

    /// Creates the bucket (tests and benchmarks; a team's bucket is made by its admin).
    func createBucket() async throws(S3Error) {
        let request = S3Request(method: .PUT, key: nil)
        let answer = try await send(request)
        guard answer.status == 200 || Self.errorDocument(answer.text).0 == "BucketAlreadyOwnedByYou" else {
            throw failure(answer, request: request)
        }
    }

    /// Whether the object `name` exists (`HEAD`).
    public func exists(_ name: String) async throws(S3Error) -> Bool {
        let request = S3Request(method: .HEAD, key: name)
        let answer = try await send(request)
        switch answer.status {
        case 200: return true
        case 404: return false
        default: throw failure(answer, request: request)
        }
    }

    /// The bytes of a small object (at most `limit`), or nil when it does not exist.
    public func get(_ name: String, limit: Int = 16 << 20) async throws(S3Error) -> [UInt8]? {
        let request = S3Request(method: .GET, key: name)
        let answer = try await send(request, bodyLimit: limit)
        switch answer.status {
        case 200: return Array(answer.body.readableBytesView)
        case 404 where Self.errorDocument(answer.text).0 != "NoSuchBucket": return nil
        default: throw failure(answer, request: request)
        }
    }

    /// Puts small `bytes` at `name`. With `ifNoneMatch`, sends `If-None-Match: *` and
    /// returns false when the server says the key exists (412, or 409 for a concurrent
    /// write); a server that ignores the header overwrites and returns true.
    public func put(_ name: String, bytes: [UInt8], ifNoneMatch: Bool = false,
                    contentType: String = "application/octet-stream") async throws(S3Error) -> Bool {
        var request = S3Request(method: .PUT, key: name)
        request.headers = [("content-type", contentType)]
        if ifNoneMatch { request.headers.append(("if-none-match", "*")) }
        request.payloadHash = SHA256Hasher.digest(of: bytes).hex
        let buffer = ByteBuffer(bytes: bytes)
        request.body = { () throws(S3Error) in (.bytes(buffer), Int64(bytes.count)) }
        let answer = try await send(request)
        switch answer.status {
        case 200, 201, 204: return true
        case 412 where ifNoneMatch, 409 where ifNoneMatch: return false
        default: throw failure(answer, request: request)
        }
    }

    /// Uploads the file at `path` as `name`: one PUT signed with its SHA-256 (which the
    /// server checks), or a multipart upload above ``S3Options/multipartThreshold``.
    public func upload(_ name: String, file path: String, size: Int64, sha256 digest: Digest) async throws(S3Error) {
        if size > options.multipartThreshold {
            try await uploadMultipart(name, file: path, size: size)
            return
        }
        var request = S3Request(method: .PUT, key: name)
        request.headers = [("content-type", "application/octet-stream")]
        request.payloadHash = digest.hex
        let bufferSize = options.readBufferSize
        request.body = { () throws(S3Error) in
            try S3FileBody.body(path: path, offset: 0, length: size, bufferSize: bufferSize)
        }
        let answer = try await send(request)
        guard (200...299).contains(answer.status) else { throw failure(answer, request: request) }
    }

    /// Downloads `name` to `path`, checking that its bytes have `digest`: they are written
    /// to a temporary file beside `path`, hashed as they arrive, and renamed into place
    /// only when they match, so a failed or wrong download leaves nothing. Returns false
    /// when the object does not exist.
    public func download(_ name: String, to path: String, digest: Digest) async throws(S3Error) -> Bool {
        let request = S3Request(method: .GET, key: name)
        let outcome = try await retrying(request) { () throws(S3Error) -> DownloadOutcome in
            try await downloadOnce(request, to: path, digest: digest)
        }
        switch outcome.status {
        case 200: return true
        case 404 where outcome.s3Code != "NoSuchBucket": return false
        default:
            throw failure(Answer(status: outcome.status, headers: [:], body: ByteBuffer(string: outcome.errorText)),
                          request: request)
        }
    }

    /// What one download attempt got.
    struct DownloadOutcome: S3Status {
        var status: Int
        var s3Code: String?
        var errorText = ""
        var statusCode: Int { status }
    }

    func downloadOnce(_ request: S3Request, to path: String, digest: Digest) async throws(S3Error) -> DownloadOutcome {
        let response = try await execute(request)
        let status = Int(response.status.code)
        guard status == 200 else {
            let text: String
            do {
                text = String(buffer: try await response.body.collect(upTo: 1 << 20))
            } catch {
                throw Self.connectionFailure(error, request: label(request), attempts: 1)
            }
            return DownloadOutcome(status: status, s3Code: Self.errorDocument(text).0, errorText: text)
        }
        let temporary = path + ".part-\(UUID().uuidString.prefix(8))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw S3Error(.local, "cannot create \(temporary) to download \(bucket.display(request.key ?? "")): \(String(cString: strerror(errno)))")
        }
        var kept = false
        defer {
            close(fd)
            if !kept { unlink(temporary) }
        }
        var hasher = SHA256Hasher()
        do {
            for try await buffer in response.body {
                try buffer.withUnsafeReadableBytes { (raw) throws(S3Error) in
                    hasher.update(raw)
                    try Self.writeAll(fd, raw, path: temporary)
                }
            }
        } catch let error as S3Error {
            throw error
        } catch {
            throw Self.connectionFailure(error, request: label(request), attempts: 1)
        }
        let actual = hasher.finalize()
        guard actual == digest else {
            throw S3Error(.corrupt, "\(label(request)) sent bytes whose digest is \(actual), not \(digest); "
                          + "the remote object is damaged: delete it from the bucket (the next push uploads it again)")
        }
        guard fsync(fd) == 0 || errno == EINVAL, rename(temporary, path) == 0 else {
            throw S3Error(.local, "cannot move the download into place at \(path): \(String(cString: strerror(errno)))")
        }
        kept = true
        return DownloadOutcome(status: 200)
    }

    /// Writes all of `bytes`, retrying short writes; throws on ENOSPC and other errors.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(S3Error) {
        var offset = 0
        while offset < bytes.count {
            let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw S3Error(.local, "cannot write \(path): \(String(cString: strerror(errno))); free space there and try again")
            }
            offset += written
        }
    }
}
