/// What a stage kind accepts, as the engine registers it, so that the loader can check
/// every stage's `kind`, `run:` and `with:` keys before anything runs.
///
/// The loader knows no kind by itself: `command`, `validate`, … are all supplied by the
/// engine. A kind whose `required` and `optional` are both empty takes no `with:` at all.
public struct KindSchema: Sendable {
    /// The kind's name as written in `kind:`.
    public var name: String
    /// `with:` keys that must be present.
    public var required: Set<String>
    /// `with:` keys that may be present.
    public var optional: Set<String>
    /// Whether a stage of this kind may have `run:`.
    public var runAllowed: Bool
    /// Whether a stage of this kind must have `run:` (implies `runAllowed`).
    public var runRequired: Bool
    /// Whether results are cached unless the stage says `cache: false` (false for kinds
    /// with effects outside the workspace, such as deploy).
    public var cachedByDefault: Bool
    /// Checks one `with:` value that holds no expression, at lint time; returns what is
    /// wrong and how to fix it (reported as it is, at the value's line and column), or nil. A value with `${{ }}` in it is checked by the
    /// kind when the stage starts, once it is known. nil: values are not checked early.
    ///
    /// So that `format: onx` is reported as `FILE:LINE:COL: error:` by `mlpipe lint`
    /// before anything runs, rather than when the stage gets to it.
    public var checkValue: (@Sendable (_ key: String, _ value: Value) -> String?)?

    /// Creates a schema; by default a kind takes no `with:` keys and no `run:`.
    public init(name: String, required: Set<String> = [], optional: Set<String> = [],
                runAllowed: Bool = false, runRequired: Bool = false, cachedByDefault: Bool = true,
                checkValue: (@Sendable (_ key: String, _ value: Value) -> String?)? = nil) {
        self.checkValue = checkValue
        self.name = name
        self.required = required
        self.optional = optional
        self.runAllowed = runAllowed || runRequired
        self.runRequired = runRequired
        self.cachedByDefault = cachedByDefault
    }

    /// Every `with:` key the kind knows.
    var knownKeys: Set<String> { required.union(optional) }
}
