/// Where each part of a stage's `with:` is written, so that a problem with a setting is
/// reported at its FILE:LINE:COL both by `mlpipe lint` and when the stage starts (where
/// the value is rendered and no longer has a node).
///
/// Paths are `SettingsPath` descriptions: `format`, `signature.inputs[0].shape`. A value
/// that came from an expression has the location of the expression's string; what it
/// renders to (a whole mapping, say) has no locations of its own and is reported there.
public struct SettingsLocations: Sendable, Hashable {
    /// The `with:` key, or the stage's name when the stage has no `with:`: where a
    /// missing key is reported.
    public var block: SourceLocation
    /// Where each value starts, by path.
    public var values: [String: SourceLocation]
    /// Where each mapping key is written, by the path of its value.
    public var keys: [String: SourceLocation]

    /// Creates the locations; with no paths, every problem is reported at `block`.
    public init(block: SourceLocation, values: [String: SourceLocation] = [:], keys: [String: SourceLocation] = [:]) {
        self.block = block
        self.values = values
        self.keys = keys
    }

    /// Where the value at `path` is written: its own location, else that of the nearest
    /// enclosing value that has one, else `block`.
    func value(at path: SettingsPath) -> SourceLocation {
        var current = path
        while !current.isRoot {
            if let location = values[current.description] { return location }
            current = current.parent
        }
        return block
    }

    /// Where the key of the value at `path` is written, else where its value is.
    func key(at path: SettingsPath) -> SourceLocation {
        keys[path.description] ?? value(at: path)
    }
}
