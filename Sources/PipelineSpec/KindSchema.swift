/// What a stage kind accepts and returns, as the engine registers it, so that the loader
/// can check every stage's `kind`, `run:`, `with:` and `stages.NAME.results.KEY`
/// references before anything runs.
///
/// The loader knows no kind by itself: `command`, `validate`, … are all supplied by the
/// engine. The `with:` schema is the settings type alone (`KindSettings`): the loader
/// decodes each stage's `with:` into it with `SettingsDecoder`.
public struct KindSchema: Sendable {
    /// The kind's name as written in `kind:`.
    public var name: String
    /// The type its `with:` is decoded into; `NoSettings` for a kind that takes none.
    public var settings: any KindSettings.Type
    /// The names of the results the kind returns (`StageResult.results`), which a later
    /// stage reads as `${{ stages.NAME.results.KEY }}`; the loader refuses any other KEY.
    public var results: [String]
    /// Whether a stage of this kind may have `run:`.
    public var runAllowed: Bool
    /// Whether a stage of this kind must have `run:` (implies `runAllowed`).
    public var runRequired: Bool
    /// Whether results are cached unless the stage says `cache: false` (false for kinds
    /// with effects outside the workspace, such as deploy).
    public var cachedByDefault: Bool

    /// Creates a schema; by default a kind takes no `with:`, returns no results and takes
    /// no `run:`.
    public init(name: String, settings: any KindSettings.Type = NoSettings.self, results: [String] = [],
                runAllowed: Bool = false, runRequired: Bool = false, cachedByDefault: Bool = true) {
        self.name = name
        self.settings = settings
        self.results = results
        self.runAllowed = runAllowed || runRequired
        self.runRequired = runRequired
        self.cachedByDefault = cachedByDefault
    }
}
