/// Model packages: a folder with the model's files and `mlpipe-model.json`.
public enum ModelPackage {
    /// The manifest's file name inside a package folder.
    public static let manifestName = "mlpipe-model.json"
}
