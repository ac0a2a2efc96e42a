import ArtifactStore
import S3Store

/// A cache shared between machines: action entries by cache key, and the content-
/// addressed objects they name, beside the local `StageCache`.
///
/// The engine asks it after a local miss, before computing a stage, and gives it each
/// result it computes. Implementations: ``S3RemoteCache`` (S3Store, any S3-API server)
/// and ``InMemoryRemoteCache`` (the engine's tests). They speak the S3 store's
/// vocabulary: ``ActionEntry`` is the entry's format, and errors are `S3Error`s, whose
/// ``S3Error/remoteUnusable`` tells a remote that is down or denies access (the run goes
/// on without it, with one warning) from one bad object (that stage is computed).
public protocol RemoteCache: Sendable, CustomStringConvertible {
    /// Checks that the remote answers and the credentials may use it.
    func check() async throws(S3Error)

    /// The entry for `key`, or nil when the remote has none.
    func entry(key: String) async throws(S3Error) -> ActionEntry?

    /// Puts each object (a tree with its files) into `store`, checked against its digest
    /// first; objects the store has are not downloaded. `scratch` is a folder for
    /// temporary files, on the store's file system.
    func download(_ objects: [StoredObject], into store: any ArtifactStore, scratch: String) async throws(S3Error)

    /// Uploads each object from `store`, skipping those the remote has.
    func upload(_ objects: [StoredObject], from store: any ArtifactStore, scratch: String) async throws(S3Error)

    /// Writes `entry` unless its key has one (first writer wins); returns the entry the
    /// remote keeps. Objects must be uploaded first.
    func publish(_ entry: ActionEntry) async throws(S3Error) -> ActionEntry
}

extension S3RemoteCache: RemoteCache {
    public func download(_ objects: [StoredObject], into store: any ArtifactStore, scratch: String) async throws(S3Error) {
        for object in objects { try await download(object, into: store, scratch: scratch) }
    }

    public func upload(_ objects: [StoredObject], from store: any ArtifactStore, scratch: String) async throws(S3Error) {
        for object in objects { try await upload(object, from: store, scratch: scratch) }
    }
}
