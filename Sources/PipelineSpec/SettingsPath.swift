/// Where a value sits inside a stage's `with:`: `format`, `signature.inputs[0].shape`.
///
/// Its `description` is the form messages show after `with.` and the key of
/// `SettingsLocations`; the empty path is `with:` itself.
struct SettingsPath: Hashable, Sendable, CustomStringConvertible {
    enum Component: Hashable, Sendable {
        case key(String)
        case index(Int)
    }

    var components: [Component] = []

    static let root = SettingsPath()

    init(_ components: [Component] = []) {
        self.components = components
    }

    /// The path of a coding path: keys by their string value, list positions (the
    /// decoder's `IndexKey`) as indices.
    init(codingPath: [any CodingKey]) {
        components = codingPath.map { key in
            if let index = key as? SettingsDecoder.IndexKey { return .index(index.index) }
            return .key(key.stringValue)
        }
    }

    var isRoot: Bool { components.isEmpty }

    func appending(_ component: Component) -> SettingsPath {
        SettingsPath(components + [component])
    }

    func appending(key: String) -> SettingsPath { appending(.key(key)) }

    /// The path without its last component; the root's parent is the root.
    var parent: SettingsPath { SettingsPath(Array(components.dropLast())) }

    /// The paths from the first component down to this one, shortest first.
    var prefixes: [SettingsPath] {
        (1...max(1, components.count)).map { SettingsPath(Array(components.prefix($0))) }
    }

    /// Whether `self` is `other` or lies inside it.
    func isWithin(_ other: SettingsPath) -> Bool {
        components.count >= other.components.count && Array(components.prefix(other.components.count)) == other.components
    }

    /// The coding keys a `Decoder` reports for this path.
    var codingKeys: [any CodingKey] {
        components.map { component -> any CodingKey in
            switch component {
            case .key(let key): return SettingsDecoder.NameKey(key)
            case .index(let index): return SettingsDecoder.IndexKey(index)
            }
        }
    }

    /// `signature.inputs[0].shape`; empty for the root.
    var description: String {
        var out = ""
        for component in components {
            switch component {
            case .key(let key): out += out.isEmpty ? key : "." + key
            case .index(let index): out += "[\(index)]"
            }
        }
        return out
    }

    /// `with.signature.inputs[0]`, or `with` for the root: how messages name the value.
    var shown: String { isRoot ? "with" : "with." + description }
}
