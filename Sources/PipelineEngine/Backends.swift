import ArtifactStore
import Foundation
import PostgresRunStore
import RunStore

/// The stores one command works with — run history, cache index, objects, key locks —
/// chosen by URL-like settings through this one factory.
///
/// Settings (each an environment variable, or the default):
///
///     MLPIPE_STORE    sqlite:PATH (default: sqlite:<workspace>/mlpipe.db) | memory:
///                     | postgresql://USER@HOST:PORT/DB (also postgres://; password in PGPASSWORD)
///     MLPIPE_OBJECTS  file:PATH   (default: file:<workspace>/objects)     | memory:
///
/// `memory:` keeps everything in the process (tests, and trying a pipeline without
/// leaving state behind). A PostgreSQL store holds the history, the cache index and the
/// key locks (advisory locks) for every machine that names it; `mlpipe --store URL`
/// sets `MLPIPE_STORE` for one command.
public struct Backends: Sendable {
    public var runStore: any RunStore
    public var cache: StageCache

    /// The schemes each setting accepts, for error messages.
    static let storeSchemes = ["sqlite", "memory", "postgresql", "postgres"]
    static let objectSchemes = ["file", "memory"]

    /// Opens the stores for `workspace`; marks runs whose process died as interrupted.
    public static func open(workspace: Workspace,
                            environment: [String: String] = ProcessInfo.processInfo.environment) async throws(EngineError) -> Backends {
        let storeSetting = environment["MLPIPE_STORE"].flatMap { $0.isEmpty ? nil : $0 } ?? "sqlite:" + workspace.databasePath
        let objectSetting = environment["MLPIPE_OBJECTS"].flatMap { $0.isEmpty ? nil : $0 } ?? "file:" + workspace.objectsPath
        let (runStore, index, locks) = try await openStore(storeSetting, environment: environment)
        do {
            _ = try await runStore.markInterruptedRuns(host: ProcessIdentity.hostName(), isAlive: ProcessIdentity.isAlive)
        } catch {
            throw EngineError(.environment, "\(error)", cause: error)
        }
        let objects = try openObjects(objectSetting)
        return Backends(runStore: runStore,
                        cache: StageCache(index: index, objects: objects, locks: locks ?? FileKeyLocks(directory: workspace.locksPath)))
    }

    /// Splits `scheme:rest`.
    static func parse(_ setting: String, variable: String, schemes: [String]) throws(EngineError) -> (String, String) {
        guard let colon = setting.firstIndex(of: ":"), schemes.contains(String(setting[..<colon])) else {
            throw EngineError(.definition,
                "\(variable)=\(setting) is not a setting mlpipe knows; write one of \(schemes.map { $0 + ":…" }.joined(separator: ", "))")
        }
        var rest = String(setting[setting.index(after: colon)...])
        if rest.hasPrefix("//") { rest.removeFirst(2) }
        return (String(setting[..<colon]), rest)
    }

    /// The history and cache index `setting` names, and the key locks that go with them
    /// (nil: lock files in the workspace).
    static func openStore(_ setting: String, environment: [String: String]) async throws(EngineError)
        -> (any RunStore, any CacheIndex, (any KeyLocks)?) {
        let (scheme, path) = try parse(PostgresLocation.withoutPassword(setting), variable: "MLPIPE_STORE", schemes: storeSchemes)
        switch scheme {
        case "memory":
            let store = InMemoryRunStore()
            return (store, store, nil)
        case "postgresql", "postgres":
            do {
                let store = try await PostgresRunStore.open(try PostgresLocation(url: setting, environment: environment))
                return (store, store, PostgresKeyLocks(locks: store.advisoryLocks))
            } catch {
                throw EngineError(.environment, "\(error)", cause: error)
            }
        default:
            do {
                let store = try SQLiteRunStore(path: path)
                return (store, store, nil)
            } catch {
                throw EngineError(.environment, "\(error)", cause: error)
            }
        }
    }

    static func openObjects(_ setting: String) throws(EngineError) -> any ArtifactStore {
        let (scheme, path) = try parse(setting, variable: "MLPIPE_OBJECTS", schemes: objectSchemes)
        switch scheme {
        case "memory":
            return InMemoryArtifactStore()
        default:
            do {
                return try LocalArtifactStore(root: path)
            } catch {
                throw EngineError(.environment, "\(error)", cause: error)
            }
        }
    }
}
