import Canonical

/// Content-addressed storage for stage outputs: the seam between the engine and
/// where bytes live.
///
/// A local folder (``LocalArtifactStore``), memory (``InMemoryArtifactStore``, for the
/// engine's unit tests), and an S3-API remote cache shared by CI runners next. The
/// requirements are `async` so that a networked store fits; the local store answers
/// them synchronously. Paths name local files on both sides: what a stage wrote, and
/// where a run wants it. Objects are
/// named by their SHA-256 and never change once written, so any two stores agree
/// on what a digest means, and a reader never sees half an object.
///
/// Runs hold a ``StoreLease`` for their whole duration; garbage collection takes
/// the store exclusively and refuses while any lease is held, so it cannot delete
/// an object a running stage is about to reuse.
public protocol ArtifactStore: Sendable {
    /// Stores the file or folder at `path`. A folder stores each file, then a
    /// canonical JSON manifest (`[{digest, executable, path, size}]`, sorted by
    /// path) whose digest is the tree's digest. Storing what is already there
    /// is cheap and harmless.
    func store(path: String) async throws(StoreError) -> StoredObject

    /// Re-creates `object` at `destination`, creating its parent folders, so that
    /// writing to the result can never change the store unnoticed: small files are
    /// copied, large ones cloned or hard-linked after ``check(_:)``. A folder is
    /// rebuilt from its manifest. The result appears at once (temporary name, then
    /// rename), replacing what was at `destination`. Content that does not match its
    /// digest is removed and reported as ``StoreError/Code/corrupt``, never handed out.
    func materialize(_ object: StoredObject, at destination: String) async throws(StoreError)

    /// Whether an object with `digest` is present.
    func contains(_ digest: Digest) async -> Bool

    /// Every object, sorted by digest.
    func objects() async throws(StoreError) -> [ObjectInfo]

    /// Re-hashes every object and checks that every tree's files are present.
    func verify() async throws(StoreError) -> [VerifyProblem]

    /// Takes the store exclusively, asks `deciding` what to keep, then deletes every
    /// object not in that set (a kept tree keeps its files), and temporary files older
    /// than an hour. Refuses, with ``StoreError/Code/locked``, while any lease is held.
    ///
    /// Taking the store before the caller decides is what makes gc safe: a run that
    /// saves an entry between the decision and the deletion would lose its objects.
    /// An error thrown by `deciding` is rethrown as it is, and nothing is deleted.
    func collectGarbage(deciding: @Sendable () async throws -> Set<Digest>) async throws -> GCReport

    /// Takes a shared lease that keeps garbage collection away until released.
    /// Waits while a collection is running.
    func lease() async throws(StoreError) -> StoreLease

    /// Whether `object` (and, for a tree, each file it lists) still has the content
    /// its digest names: call it before trusting a cache hit. Cheap when nothing
    /// changed; content found wrong is removed from the store and false returned, so
    /// the caller makes the output again. Throws ``StoreError/Code/notFound`` for a
    /// missing object.
    func check(_ object: StoredObject) async throws(StoreError) -> Bool
}
