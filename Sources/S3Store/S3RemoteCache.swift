import ArtifactStore
import Canonical
import Foundation

/// A stage cache shared through an S3 bucket: content-addressed objects at
/// `PREFIX/cas/sha256/<hex>` (the same ids as the local store; a folder is its files plus
/// its manifest) and one action entry per cache key at `PREFIX/ac/sha256/<hex>`.
///
/// Writers upload objects first and the entry last, with `If-None-Match: *`: the first
/// writer of a key wins, and a later one reads and keeps the winner's entry
/// (``publish(_:)`` returns it). Readers check every byte they download against its
/// digest before it enters the local store, and a download that fails or does not match
/// leaves nothing behind.
///
/// It moves bytes between the remote and an `ArtifactStore`; what a hit means for a
/// stage is the engine's business.
public struct S3RemoteCache: Sendable, CustomStringConvertible {
    /// The client, for one bucket and prefix.
    public let client: S3Client

    /// A cache over `client`'s bucket and prefix.
    public init(client: S3Client) {
        self.client = client
    }

    /// `s3://bucket/prefix`.
    public var description: String { client.bucket.description }

    /// Checks that the bucket answers and the credentials may use it.
    public func check() async throws(S3Error) {
        try await client.checkBucket()
    }

    /// The entry for `key`, or nil when the remote has none.
    public func entry(key: String) async throws(S3Error) -> ActionEntry? {
        let name = try Self.entryName(key)
        guard let bytes = try await client.get(name, limit: 4 << 20) else { return nil }
        return try ActionEntry.decode(bytes, key: key, at: client.bucket.display(name))
    }

    /// Writes `entry` unless the key has one; returns the entry the remote keeps (the
    /// winner's, when another writer was first). Its objects must be uploaded already.
    public func publish(_ entry: ActionEntry) async throws(S3Error) -> ActionEntry {
        let name = try Self.entryName(entry.key)
        if try await client.put(name, bytes: try entry.encoded(), ifNoneMatch: true, contentType: "application/json") {
            return entry
        }
        guard let winner = try await self.entry(key: entry.key) else {
            throw S3Error(.unexpected, "\(client.bucket.display(name)) exists (the server refused to overwrite it) but cannot be read")
        }
        return winner
    }

    /// Uploads `object` (a tree: its files, then its manifest) from `store`, skipping
    /// what the remote already has. `scratch` is a folder for temporary copies.
    public func upload(_ object: StoredObject, from store: any ArtifactStore, scratch: String) async throws(S3Error) {
        let name = Self.objectName(object.digest)
        if try await client.exists(name) { return }
        let manifestFile = try Self.scratchPath(scratch, "up")
        defer { unlink(manifestFile) }
        // Either the file itself, or the tree's manifest (an object too, in the store).
        try await materialize(object.digest, from: store, at: manifestFile)
        if object.kind == .tree {
            let bytes = try Self.readAll(manifestFile)
            guard let manifest = TreeManifest.decode(bytes) else {
                throw S3Error(.local, "object \(object.digest) in the local store is not a folder's manifest; run `mlpipe cache verify`")
            }
            for entry in manifest.entries {
                try await upload(StoredObject(digest: entry.digest, kind: .file, size: entry.size), from: store, scratch: scratch)
            }
        }
        try await client.upload(name, file: manifestFile, size: try Self.size(of: manifestFile), sha256: object.digest)
    }

    /// Downloads `object` (a tree: its manifest, then the files the store lacks) into
    /// `store`, checking each against its digest first. Does nothing when the store has it.
    public func download(_ object: StoredObject, into store: any ArtifactStore, scratch: String) async throws(S3Error) {
        guard !(await store.contains(object.digest)) else { return }
        switch object.kind {
        case .file:
            let file = try Self.scratchPath(scratch, "down")
            defer { unlink(file) }
            try await fetch(object.digest, to: file)
            try await put(file, into: store, expecting: object.digest)
        case .tree:
            let name = Self.objectName(object.digest)
            guard let bytes = try await client.get(name, limit: 64 << 20) else { throw missing(object.digest) }
            let actual = SHA256Hasher.digest(of: bytes)
            guard actual == object.digest else {
                throw S3Error(.corrupt, "GET \(client.bucket.display(name)) sent a manifest whose digest is \(actual); the remote object is damaged: delete it from the bucket")
            }
            guard let manifest = TreeManifest.decode(bytes) else {
                throw S3Error(.corrupt, "\(client.bucket.display(name)) is not a folder's manifest; delete it from the bucket")
            }
            let folder = try Self.scratchPath(scratch, "tree")
            defer { try? FileManager.default.removeItem(atPath: folder) }   // a scratch copy; the store has its own
            try Self.makeFolder(folder)
            for entry in manifest.entries {
                guard !entry.path.hasPrefix("/"), !entry.path.split(separator: "/").contains("..") else {
                    throw S3Error(.corrupt, "\(client.bucket.display(name)) lists the unsafe path '\(entry.path)'; delete it from the bucket")
                }
                let file = folder + "/" + entry.path
                try Self.makeFolder((file as NSString).deletingLastPathComponent)
                if await store.contains(entry.digest) {
                    try await materialize(entry.digest, from: store, at: file)
                } else {
                    try await fetch(entry.digest, to: file)
                }
                chmod(file, entry.executable ? 0o755 : 0o644)
            }
            try await put(folder, into: store, expecting: object.digest)
        }
    }

    // MARK: Steps

    func fetch(_ digest: Digest, to file: String) async throws(S3Error) {
        guard try await client.download(Self.objectName(digest), to: file, digest: digest) else { throw missing(digest) }
    }

    func missing(_ digest: Digest) -> S3Error {
        S3Error(.unexpected, "\(client.bucket.display(Self.objectName(digest))) is missing, though an entry names it; "
                + "push the result again (`mlpipe cache push`)", status: 404)
    }

    func materialize(_ digest: Digest, from store: any ArtifactStore, at file: String) async throws(S3Error) {
        do {
            // Size -1: the store re-checks the bytes rather than trusting a size it cannot know here.
            try await store.materialize(StoredObject(digest: digest, kind: .file, size: -1), at: file)
        } catch {
            throw S3Error(.local, "cannot read object \(digest) from the local store: \(error)", cause: error)
        }
    }

    func put(_ path: String, into store: any ArtifactStore, expecting digest: Digest) async throws(S3Error) {
        let stored: StoredObject
        do {
            stored = try await store.store(path: path)
        } catch {
            throw S3Error(.local, "cannot put the download of \(digest) into the local store: \(error)", cause: error)
        }
        guard stored.digest == digest else {
            throw S3Error(.corrupt, "the download of \(digest) was stored as \(stored.digest); the remote object is damaged")
        }
    }

    static func objectName(_ digest: Digest) -> String { "cas/sha256/" + digest.hex }

    static func entryName(_ key: String) throws(S3Error) -> String {
        guard let digest = Digest(parsing: key) else {
            throw S3Error(.unexpected, "'\(key)' is not a cache key (sha256:<64 hex>)")
        }
        return "ac/sha256/" + digest.hex
    }

    static func scratchPath(_ scratch: String, _ what: String) throws(S3Error) -> String {
        try makeFolder(scratch)
        return scratch + "/\(what)-\(UUID().uuidString)"
    }

    static func makeFolder(_ path: String) throws(S3Error) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw S3Error(.local, "cannot create \(path): \(error.localizedDescription)", cause: error)
        }
    }

    static func readAll(_ path: String) throws(S3Error) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw S3Error(.local, "cannot read \(path)")
        }
        return Array(data)
    }

    static func size(of path: String) throws(S3Error) -> Int64 {
        var info = stat()
        guard stat(path, &info) == 0 else { throw S3Error(.local, "cannot read \(path): \(String(cString: strerror(errno)))") }
        return Int64(info.st_size)
    }
}
