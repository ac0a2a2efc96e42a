import Foundation
import ModelRegistry
import RunStore

/// The workspace's model registry (a register stage's `backend: local`, `mlpipe models`
/// without `--tracking-uri`), kept where the run store is: with the history on the
/// PostgreSQL server when `MLPIPE_STORE` names one (``PostgresModelRegistry``), else in
/// the workspace's SQLite file (`LocalModelRegistry`).
public enum StoreModelRegistry {
    /// The registry for `MLPIPE_STORE` in `environment` (its password from the URL or
    /// `PGPASSWORD`); `databasePath` is the workspace's `mlpipe.db`, used when the store
    /// is not PostgreSQL. Connecting to PostgreSQL waits for the first call.
    public static func open(databasePath: String,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws(RegistryError)
        -> any ModelRegistry {
        guard let setting = environment["MLPIPE_STORE"], PostgresLocation.matches(setting) else {
            return try LocalModelRegistry(path: databasePath)
        }
        do {
            return PostgresModelRegistry(location: try PostgresLocation(url: setting, environment: environment))
        } catch {
            throw RegistryError(.database, "cannot open the model registry in MLPIPE_STORE: \(error.reason)",
                                remedy: error.remedy, cause: error)
        }
    }
}
