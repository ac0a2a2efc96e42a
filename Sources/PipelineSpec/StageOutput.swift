/// A declared output of a stage: a name for expressions and a path in the stage's output
/// folder.
public struct StageOutput: Sendable, Hashable {
    /// The name used in `outputs.NAME` and `stages.S.outputs.NAME`.
    public var name: String
    /// A relative path inside the stage's output folder, normalised (no `.` or `..`
    /// components, no trailing `/`).
    public var path: String
    /// Where the output's key is written.
    public var location: SourceLocation

    /// Creates an output.
    public init(name: String, path: String, location: SourceLocation) {
        self.name = name
        self.path = path
        self.location = location
    }
}
