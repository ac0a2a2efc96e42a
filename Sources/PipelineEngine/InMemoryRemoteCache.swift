import ArtifactStore
import Foundation
import S3Store
import Synchronization

/// A remote cache in memory, for the engine's tests: entries in a dictionary, objects in
/// an ``InMemoryArtifactStore``; `down` makes every call fail as an unreachable server.
public final class InMemoryRemoteCache: RemoteCache {
    private struct State {
        var entries: [String: ActionEntry] = [:]
        var down = false
    }

    private let state = Mutex(State())
    /// The remote's objects.
    public let objects = InMemoryArtifactStore()

    /// An empty remote.
    public init() {}

    public var description: String { "memory://remote" }

    /// Makes the remote unreachable (true) or reachable again.
    public func setDown(_ down: Bool) {
        state.withLock { $0.down = down }
    }

    /// Every entry, by key.
    public var entries: [String: ActionEntry] { state.withLock { $0.entries } }

    private func requireUp() throws(S3Error) {
        if state.withLock({ $0.down }) {
            throw S3Error(.unreachable, "memory://remote: no answer (connection refused)")
        }
    }

    public func check() async throws(S3Error) {
        try requireUp()
    }

    public func entry(key: String) async throws(S3Error) -> ActionEntry? {
        try requireUp()
        return state.withLock { $0.entries[key] }
    }

    public func download(_ list: [StoredObject], into store: any ArtifactStore, scratch: String) async throws(S3Error) {
        try requireUp()
        try await copy(list, from: objects, to: store, scratch: scratch)
    }

    public func upload(_ list: [StoredObject], from store: any ArtifactStore, scratch: String) async throws(S3Error) {
        try requireUp()
        try await copy(list, from: store, to: objects, scratch: scratch)
    }

    public func publish(_ entry: ActionEntry) async throws(S3Error) -> ActionEntry {
        try requireUp()
        return state.withLock { state in
            if let winner = state.entries[entry.key] { return winner }
            state.entries[entry.key] = entry
            return entry
        }
    }

    /// Each object through a scratch file or folder: materialised from one store, stored in the other.
    private func copy(_ list: [StoredObject], from source: any ArtifactStore, to destination: any ArtifactStore,
                      scratch: String) async throws(S3Error) {
        for object in list where !(await destination.contains(object.digest)) {
            let path = scratch + "/memory-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: path) }   // a scratch copy
            do {
                try await source.materialize(object, at: path)
                let stored = try await destination.store(path: path)
                guard stored.digest == object.digest else {
                    throw S3Error(.corrupt, "memory://remote: \(object.digest) arrived as \(stored.digest)")
                }
            } catch let error as S3Error {
                throw error
            } catch {
                throw S3Error(.unexpected, "memory://remote: cannot copy \(object.digest): \(error)", status: 404)
            }
        }
    }
}
