/// A checked pipeline file: what the engine plans and runs.
///
/// A `Pipeline` only comes out of `PipelineLoader` when the file has no problem at all, so
/// the engine can rely on every invariant listed on `Stage`, and on the stage graph being
/// acyclic.
public struct Pipeline: Sendable {
    /// The file as shown to the user.
    public var file: String
    /// The file's text, as read (the run record keeps it).
    public var source: String
    /// The format version; always 1 today.
    public var version: Int
    /// The pipeline's name (`[A-Za-z0-9_.-]+`).
    public var name: String
    /// Parameter values: the file's defaults, with overrides applied by `applying(paramOverrides:)`.
    public var params: [String: Value]
    /// Parameter names in file order.
    public var paramOrder: [String]
    /// Where each parameter's key is written.
    public var paramLocations: [String: SourceLocation]
    /// Where the `params:` key is written, or 1:1 when there is none; overrides of unknown
    /// params are reported here.
    public var paramsLocation: SourceLocation
    /// Plain variables for every stage, numbers and booleans already written as text.
    public var env: [String: String]
    /// Secret name → where its value comes from.
    public var secrets: [String: SecretSource]
    /// The stages in file order; a stage with `matrix:` is there as its instances.
    public var stages: [Stage]
    /// Each stage with `matrix:` (by its name as written) -> its instances' names, in
    /// expansion order. A reference to the group means all of them.
    public var matrixGroups: [String: [String]] = [:]
    /// The `params_files:` entries, in file order (see `applying(paramsFilesIn:)`).
    public var paramsFiles: [ParamsFile] = []
    /// The remote cache of `remote:`, if any.
    public var remote: RemoteSetting?

    /// Creates a pipeline; used by the loader and by tests that build one by hand.
    public init(file: String, source: String = "", version: Int = 1, name: String,
                params: [String: Value] = [:], paramOrder: [String]? = nil,
                paramLocations: [String: SourceLocation] = [:], paramsLocation: SourceLocation? = nil,
                env: [String: String] = [:], secrets: [String: SecretSource] = [:], stages: [Stage]) {
        self.file = file
        self.source = source
        self.version = version
        self.name = name
        self.params = params
        self.paramOrder = paramOrder ?? params.keys.sorted()
        self.paramLocations = paramLocations
        self.paramsLocation = paramsLocation ?? .start(of: file)
        self.env = env
        self.secrets = secrets
        self.stages = stages
    }

    /// The stage called `named`, if any.
    public func stage(named: String) -> Stage? {
        stages.first { $0.name == named }
    }

    /// The stages a name on the command line (`--only`, `--force`, `status`) stands for:
    /// the instances of a matrix group, a stage itself, or nothing when it names neither.
    public func stages(named name: String) -> [String] {
        if let instances = matrixGroups[name] { return instances }
        return stage(named: name) == nil ? [] : [name]
    }

    /// The names of the stages with `matrix:` (the keys of `matrixGroups`).
    public var matrixGroupNames: Set<String> { Set(matrixGroups.keys) }

    /// Every name a user may give for a stage: stages, instances and matrix groups, sorted.
    public var stageNames: [String] {
        (stages.map(\.name) + matrixGroups.keys).sorted()
    }

    /// Stage names such that every stage comes after all its dependencies. Deterministic:
    /// among stages that are ready at the same time, the one earlier in the file comes
    /// first. (Were the graph cyclic, which the loader never lets through, the stages on
    /// cycles would follow in file order.)
    public var topologicalOrder: [String] {
        // Kahn's algorithm with the ready stages in a min-heap of file positions:
        // O((stages + edges) log stages), whatever the file holds.
        let index = Dictionary(stages.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        var waitingOn = [Int](repeating: 0, count: stages.count)
        var dependents = [[Int]](repeating: [], count: stages.count)
        for (position, stage) in stages.enumerated() {
            for dependency in Set(stage.dependencies) {
                guard let from = index[dependency], from != position else { continue }
                waitingOn[position] += 1
                dependents[from].append(position)
            }
        }
        var ready = MinHeap(stages.indices.filter { waitingOn[$0] == 0 })
        var placed = [Bool](repeating: false, count: stages.count)
        var order: [String] = []
        order.reserveCapacity(stages.count)
        while let next = ready.pop() {
            placed[next] = true
            order.append(stages[next].name)
            for dependent in dependents[next] {
                waitingOn[dependent] -= 1
                if waitingOn[dependent] == 0 { ready.push(dependent) }
            }
        }
        if order.count < stages.count {
            order += stages.indices.filter { !placed[$0] }.map { stages[$0].name }
        }
        return order
    }

    /// Every stage that depends, directly or through others, on one of `of`, not
    /// including the stages of `of` themselves (unless one depends on another).
    public func downstream(of names: Set<String>) -> Set<String> {
        var dependents: [String: [String]] = [:]
        for stage in stages {
            for dependency in stage.dependencies { dependents[dependency, default: []].append(stage.name) }
        }
        return closure(from: names) { dependents[$0] ?? [] }
    }

    /// Every stage that one of `of` depends on, directly or through others, not including
    /// the stages of `of` themselves (unless one depends on another).
    public func upstream(of names: Set<String>) -> Set<String> {
        let byName = Dictionary(stages.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        return closure(from: names) { byName[$0]?.dependencies ?? [] }
    }

    private func closure(from start: Set<String>, next: (String) -> [String]) -> Set<String> {
        var found = Set<String>()
        var queue = Array(start)
        while let name = queue.popLast() {
            for neighbour in next(name) where found.insert(neighbour).inserted {
                queue.append(neighbour)
            }
        }
        return found
    }

    /// The pipeline with `--param NAME=VALUE` overrides applied, in order (a later one
    /// wins). Values are read by `Value(parsingScalar:)`. Every unknown name is reported,
    /// at the `params:` key (or 1:1), with a did-you-mean.
    public func applying(paramOverrides: [(String, String)]) throws(SpecErrors) -> Pipeline {
        var copy = self
        var diagnostics: [Diagnostic] = []
        for (name, text) in paramOverrides {
            guard params[name] != nil else {
                var message = "unknown param '\(name)' in --param"
                if let suggestion = Suggestions.closest(to: name, in: paramOrder) {
                    message += "; did you mean '\(suggestion)'?"
                } else if paramOrder.isEmpty {
                    message += "; the pipeline declares no params, add it under `params:` first"
                } else {
                    message += "; declared params are: \(paramOrder.joined(separator: ", "))"
                }
                diagnostics.append(Diagnostic(location: paramsLocation, message: message))
                continue
            }
            copy.params[name] = Value(parsingScalar: text)
        }
        if !diagnostics.isEmpty { throw SpecErrors(diagnostics: diagnostics) }
        return copy
    }
}
