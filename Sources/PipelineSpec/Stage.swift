/// One stage of a pipeline, as written in the file and checked by the loader.
///
/// All names it uses are known to exist: its kind is registered, every `needs` entry and
/// every stage an expression refers to is a stage of the pipeline, and every `outputs.X`,
/// `params.X`, `secrets.X` and `env.X` it uses is declared (`secrets.X` in its own
/// `secrets:` too).
public struct Stage: Sendable {
    /// The stage's name (its key under `stages:`).
    public var name: String
    /// Where the name is written.
    public var location: SourceLocation
    /// The kind: as written, or `command` when only `run:` is given.
    public var kind: String
    /// The shell command, for kinds that take one.
    public var run: Template?
    /// Stages that must finish first, as written (no repeats), in file order.
    public var needs: [String]
    /// Repository paths or globs the result depends on; empty means the whole commit.
    public var inputs: [String]
    /// Where each of `inputs` is written, for diagnostics about that entry.
    public var inputLocations: [String: SourceLocation] = [:]
    /// Declared outputs, in file order.
    public var outputs: [StageOutput]
    /// The kind's settings.
    public var with: [String: TemplateValue]
    /// Where `with:` and each of its keys and values is written, for the diagnostics of
    /// `SettingsDecoder` at lint time and when the stage starts.
    public var withLocations: SettingsLocations
    /// Variables for this stage, on top of the pipeline's `env`.
    public var env: [String: Template]
    /// The pipeline secrets this stage may see (`secrets: [NAME, …]`), in file order, no
    /// repeats; each is declared under the pipeline's `secrets:`. The stage gets these
    /// (and those its kind declares) and no other, and `${{ secrets.X }}` in it must name
    /// one of them.
    public var secrets: [String]
    /// Seconds before the stage is stopped; nil for no limit.
    public var timeout: Double?
    /// Extra attempts after a failure; 0 by default.
    public var retries: Int
    /// Whether results may be reused; nil means the kind's default.
    public var cache: Bool?
    /// A JSON file the stage writes, relative to its output folder, whose values are
    /// stored with the run.
    public var metrics: String?
    /// `needs` plus every stage referred to in an expression of this stage (`run`, `with`,
    /// `env`), sorted, without repeats.
    public var dependencies: [String]
    /// For an instance of a stage with `matrix:`, its group and values; nil otherwise.
    public var matrix: MatrixInstance?
    /// `resources:`, `node_selector:` and `executor:`: for executors and rendered
    /// manifests; not part of the cache key.
    public var placement = StagePlacement()

    /// Creates a stage; `dependencies` defaults to `needs` sorted, `withLocations` to
    /// `location` for everything.
    public init(name: String, location: SourceLocation, kind: String, run: Template? = nil,
                needs: [String] = [], inputs: [String] = [], outputs: [StageOutput] = [],
                with: [String: TemplateValue] = [:], withLocations: SettingsLocations? = nil,
                env: [String: Template] = [:], secrets: [String] = [],
                timeout: Double? = nil, retries: Int = 0, cache: Bool? = nil,
                metrics: String? = nil, dependencies: [String]? = nil, matrix: MatrixInstance? = nil) {
        self.name = name
        self.location = location
        self.kind = kind
        self.run = run
        self.needs = needs
        self.inputs = inputs
        self.outputs = outputs
        self.with = with
        self.withLocations = withLocations ?? SettingsLocations(block: location)
        self.env = env
        self.secrets = secrets
        self.timeout = timeout
        self.retries = retries
        self.cache = cache
        self.metrics = metrics
        self.dependencies = dependencies ?? Array(Set(needs)).sorted()
        self.matrix = matrix
    }

    /// The output called `name`, if declared.
    public func output(named name: String) -> StageOutput? {
        outputs.first { $0.name == name }
    }

    /// Every template of the stage: `run`, then `env` and `with` values by sorted key.
    public var templates: [Template] {
        var result: [Template] = []
        if let run { result.append(run) }
        result += env.keys.sorted().compactMap { env[$0] }
        result += with.keys.sorted().flatMap { with[$0]?.templates ?? [] }
        return result
    }

    /// Every context path used by the stage's templates, in order of first use.
    public var references: [[String]] {
        var seen = Set<[String]>()
        return templates.flatMap(\.references).filter { seen.insert($0).inserted }
    }
}
