/// What makes one instance of a stage with a `matrix:` different from its siblings: its
/// group (the stage's name as written) and its combination of matrix values.
///
/// A stage with `matrix: { lr: [0.1, 0.2], depth: [3, 5] }` is expanded when the file is
/// loaded into one `Stage` per combination, named `train[lr=0.1,depth=3]`: keys in the
/// order written (keys that only an `include:` entry adds come after), values as written.
/// Every `${{ matrix.KEY }}` of the instance is already replaced by its value, so the
/// engine plans, caches and records an instance as it does any stage.
public struct MatrixInstance: Sendable, Hashable {
    /// The stage's name as written under `stages:`, e.g. `train`.
    public var group: String
    /// The keys of this combination, in the order of the instance's name.
    public var keys: [String]
    /// Each key's value; a key that another combination has (from an `include:` entry)
    /// and this one lacks is absent here, and renders as the empty string.
    public var values: [String: Value]
    /// Each key's value as written in the file (`0.10` stays `0.10`), for the name.
    public var written: [String: String]

    /// Creates an instance.
    public init(group: String, keys: [String], values: [String: Value], written: [String: String]) {
        self.group = group
        self.keys = keys
        self.values = values
        self.written = written
    }

    /// `group[k=v,k2=v2]`: the instance's stage name.
    public var name: String {
        group + "[" + keys.map { "\($0)=\(written[$0] ?? values[$0]?.interpolated ?? "")" }.joined(separator: ",") + "]"
    }
}
