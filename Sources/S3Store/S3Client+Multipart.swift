import AsyncHTTPClient
import Canonical
import Foundation
import NIOCore

extension S3Client {
    /// Uploads a large file in parts of ``S3Options/partSize``, a few at once, each part
    /// read from disk as it is sent, so memory stays at a few buffers whatever the size.
    /// A failed upload is aborted, so the server drops the parts it holds.
    func uploadMultipart(_ name: String, file path: String, size: Int64) async throws(S3Error) {
        let uploadID = try await createMultipartUpload(name)
        do {
            let parts = try await uploadParts(name, uploadID: uploadID, file: path, size: size)
            try await completeMultipartUpload(name, uploadID: uploadID, parts: parts)
        } catch {
            // The abort is best effort: the original failure is what the user needs to see.
            var abort = S3Request(method: .DELETE, key: name)
            abort.query = [("uploadId", uploadID)]
            _ = try? await send(abort)
            throw error
        }
    }

    func createMultipartUpload(_ name: String) async throws(S3Error) -> String {
        var request = S3Request(method: .POST, key: name)
        request.query = [("uploads", "")]
        request.headers = [("content-type", "application/octet-stream")]
        let answer = try await send(request)
        guard answer.status == 200 else { throw failure(answer, request: request) }
        guard let id = Self.element("UploadId", in: answer.text), !id.isEmpty else {
            throw S3Error(.unexpected, "\(label(request)) answered without an UploadId; the server does not support multipart uploads?",
                          status: answer.status)
        }
        return id
    }

    /// Sends every part, at most ``S3Options/partConcurrency`` at once; the ETags in part order.
    func uploadParts(_ name: String, uploadID: String, file path: String,
                     size: Int64) async throws(S3Error) -> [(Int, String)] {
        let partSize = options.partSize
        let count = Int((size + partSize - 1) / partSize)
        do {
            return try await withThrowingTaskGroup(of: (Int, String).self) { group in
                var etags: [(Int, String)] = []
                var next = 1
                func start(_ number: Int) {
                    let offset = Int64(number - 1) * partSize
                    let length = min(partSize, size - offset)
                    group.addTask {
                        (number, try await uploadPart(name, uploadID: uploadID, number: number, file: path,
                                                      offset: offset, length: length))
                    }
                }
                while next <= min(count, options.partConcurrency) {
                    start(next)
                    next += 1
                }
                while let done = try await group.next() {
                    etags.append(done)
                    if next <= count {
                        start(next)
                        next += 1
                    }
                }
                return etags.sorted { $0.0 < $1.0 }
            }
        } catch let error as S3Error {
            throw error
        } catch {
            throw S3Error(.unexpected, "cancelled: PUT \(bucket.display(name))", cause: CancellationError())
        }
    }

    func uploadPart(_ name: String, uploadID: String, number: Int, file path: String,
                    offset: Int64, length: Int64) async throws(S3Error) -> String {
        var request = S3Request(method: .PUT, key: name)
        request.query = [("partNumber", String(number)), ("uploadId", uploadID)]
        // Hashing each part before sending it would read the file twice; the whole object
        // is checked against its digest by every download instead.
        request.payloadHash = SigV4Signer.unsignedPayload
        let bufferSize = options.readBufferSize
        request.body = { () throws(S3Error) in
            try S3FileBody.body(path: path, offset: offset, length: length, bufferSize: bufferSize)
        }
        let answer = try await send(request)
        guard answer.status == 200 else { throw failure(answer, request: request) }
        guard let etag = answer.headers.first(name: "ETag") else {
            throw S3Error(.unexpected, "\(label(request)) part \(number) answered without an ETag", status: answer.status)
        }
        return etag
    }

    func completeMultipartUpload(_ name: String, uploadID: String, parts: [(Int, String)]) async throws(S3Error) {
        var xml = "<CompleteMultipartUpload>"
        for (number, etag) in parts {
            let escaped = etag.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;")
            xml += "<Part><PartNumber>\(number)</PartNumber><ETag>\(escaped)</ETag></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        let bytes = Array(xml.utf8)
        var request = S3Request(method: .POST, key: name)
        request.query = [("uploadId", uploadID)]
        request.headers = [("content-type", "application/xml")]
        request.payloadHash = SHA256Hasher.digest(of: bytes).hex
        let buffer = ByteBuffer(bytes: bytes)
        request.body = { () throws(S3Error) in (.bytes(buffer), Int64(bytes.count)) }
        let answer = try await send(request)
        // S3 may answer 200 with an error document when the completion fails late.
        guard answer.status == 200, !answer.text.contains("<Error>") else { throw failure(answer, request: request) }
    }
}
