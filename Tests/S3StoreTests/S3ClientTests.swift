import ArtifactStore
import Canonical
import Foundation
@testable import S3Store
import TestSupport
import Testing

/// Against a real SeaweedFS: what a remote cache needs of an S3 server.
@Suite("S3 client against SeaweedFS", .weedServer, .serialized)
struct S3ClientTests {
    var server: WeedServer { WeedServerTrait.current! }

    func client(bucket: String = "cache", prefix: String = "team", secret: String = WeedServer.secretKey,
                options: S3Options = S3Options()) -> S3Client {
        S3Client(bucket: S3Bucket(bucket: bucket, prefix: prefix, endpoint: server.endpoint),
                 credentials: S3Credentials(accessKeyID: WeedServer.accessKey, secretAccessKey: secret), options: options)
    }

    func ready(_ name: String = "cache") async throws -> S3Client {
        let client = client(bucket: name)
        try await client.createBucket()
        return client
    }

    func temporaryFolder() throws -> String {
        let path = NSTemporaryDirectory() + "s3-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("If-None-Match: * makes the first writer of a key win (SeaweedFS answers 412 to the second)")
    func conditionalPut() async throws {
        let client = try await ready()
        let name = "ac/first-writer-" + UUID().uuidString
        #expect(try await client.put(name, bytes: Array("first".utf8), ifNoneMatch: true))
        #expect(try await client.put(name, bytes: Array("second".utf8), ifNoneMatch: true) == false)
        #expect(try await client.get(name) == Array("first".utf8))
    }

    @Test("a file above the multipart threshold uploads in parts and downloads byte for byte")
    func multipartRoundTrip() async throws {
        var options = S3Options()
        options.multipartThreshold = 6 << 20
        options.partSize = 5 << 20
        options.partConcurrency = 2
        let client = S3Client(bucket: S3Bucket(bucket: "cache", prefix: "big", endpoint: server.endpoint),
                              credentials: S3Credentials(accessKeyID: WeedServer.accessKey, secretAccessKey: WeedServer.secretKey),
                              options: options)
        try await client.createBucket()
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var bytes = [UInt8](repeating: 0, count: (12 << 20) + 123)
        for index in stride(from: 0, to: bytes.count, by: 4096) { bytes[index] = UInt8(truncatingIfNeeded: index / 4096) }
        try Data(bytes).write(to: URL(fileURLWithPath: folder + "/source"))
        let digest = SHA256Hasher.digest(of: bytes)
        try await client.upload("cas/sha256/" + digest.hex, file: folder + "/source", size: Int64(bytes.count), sha256: digest)
        #expect(try await client.download("cas/sha256/" + digest.hex, to: folder + "/copy", digest: digest))
        #expect(FileManager.default.contents(atPath: folder + "/copy") == Data(bytes))
    }

    @Test("a remote object whose bytes do not match its digest is refused and leaves nothing")
    func corruptObjectRefused() async throws {
        let client = try await ready()
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let digest = SHA256Hasher.digest(of: Array("the right bytes".utf8))
        _ = try await client.put("cas/sha256/" + digest.hex, bytes: Array("the wrong bytes".utf8))
        await #expect {
            try await client.download("cas/sha256/" + digest.hex, to: folder + "/object", digest: digest)
        } throws: { error in
            (error as? S3Error)?.code == .corrupt && "\(error)".contains("not \(digest)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == [])
    }

    @Test("a wrong secret is refused with the bucket, the key id, HTTP 403 and S3's code")
    func wrongSecret() async throws {
        _ = try await ready()
        let client = client(secret: "not-the-secret")
        await #expect {
            try await client.get("ac/anything")
        } throws: { error in
            let text = "\(error)"
            return (error as? S3Error)?.code == .denied && text.contains("s3://cache/team/ac/anything")
                && text.contains("HTTP 403 SignatureDoesNotMatch") && text.contains(WeedServer.accessKey)
                && !text.contains("not-the-secret")
        }
    }

    @Test("a server that is not running is reported at once as unreachable")
    func serverDown() async throws {
        let port = try WeedServer.freePortPairs(1)[0]
        let client = S3Client(bucket: S3Bucket(bucket: "cache", endpoint: "http://127.0.0.1:\(port)"), credentials: nil)
        let started = Date()
        await #expect {
            try await client.checkBucket()
        } throws: { error in
            (error as? S3Error)?.code == .unreachable && "\(error)".contains("connection refused")
        }
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test("a missing bucket says to create it")
    func missingBucket() async throws {
        let client = client(bucket: "nosuchbucket")
        await #expect {
            try await client.checkBucket()
        } throws: { error in
            (error as? S3Error)?.code == .noSuchBucket && "\(error)".contains("create bucket 'nosuchbucket'")
        }
    }
}
