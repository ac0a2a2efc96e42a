/// An entry of the top-level `params_files:`: a YAML or JSON file, relative to the
/// repository root, whose values override the `params:` defaults.
public struct ParamsFile: Sendable, Hashable {
    /// The path as written, relative to the repository root.
    public var path: String
    /// Where the entry is written in the pipeline file; a missing file is reported here.
    public var location: SourceLocation

    /// Creates an entry.
    public init(path: String, location: SourceLocation) {
        self.path = path
        self.location = location
    }
}
