/// The model registry's backends.
public enum ModelRegistryBackendName: String, Sendable, CaseIterable {
    /// Tables in the workspace's SQLite database.
    case local
    /// An MLflow tracking server, through its REST API.
    case mlflow
}
