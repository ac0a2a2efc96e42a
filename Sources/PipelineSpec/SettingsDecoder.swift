/// Reads a stage's `with:` into its kind's settings type (`KindSettings`), and reports
/// every problem at the FILE:LINE:COL where it is written.
///
/// Used twice, with the same messages at the same places:
/// - by the loader (`check`), over the values as written: a string with `${{ }}` is not
///   known yet, so it decodes as a placeholder and nothing that fails because of it is
///   reported (the stage start checks it);
/// - when the stage starts (`decode`), over the rendered values.
///
/// What it reports: an unknown key, with a did-you-mean among the keys the type asked for;
/// a missing key; a value of the wrong type ("with.max_size: expected a number, found a
/// list"); and each `SettingsError` a type throws ("with.format: 'onx' is not a model
/// format; …"). A `Decodable` initialiser stops at its first error, so after each error
/// the decode is tried again with the failing value set aside — decoded as a placeholder
/// and not judged again — until it gets through, to report the rest too. A key is
/// unknown when the type's `CodingKeys` has no case for it, or when a decode that got
/// through never asked for it; a did-you-mean chooses among the keys asked for, and among
/// all cases of `CodingKeys` when it is `CaseIterable`.
public enum SettingsDecoder {
    /// Attempts per decode at most: each sets one more value aside.
    static let attemptLimit = 64

    /// The problems of `stage.with` as written, for `mlpipe lint`. A value that holds an
    /// expression is never reported as wrong here.
    ///
    /// - Parameter suggest: whether to search for a did-you-mean (the loader stops
    ///   searching once a file has many problems).
    public static func check(_ type: any KindSettings.Type, of stage: Stage, suggest: Bool = true) -> [Diagnostic] {
        let root = SettingsNode.mapping(stage.with.mapValues(SettingsNode.init))
        return run(type, root: root, stage: stage, suggest: suggest).diagnostics
    }

    /// The settings of `stage` from its rendered `with:` values, when the stage starts.
    public static func decode<Settings: KindSettings>(_ type: Settings.Type, from with: [String: Value],
                                                      of stage: Stage) throws(SettingsFailure) -> Settings {
        let root = SettingsNode.mapping(with.mapValues(SettingsNode.init))
        let outcome = run(type, root: root, stage: stage, suggest: true)
        guard outcome.diagnostics.isEmpty, let settings = outcome.settings as? Settings else {
            let diagnostics = outcome.diagnostics.isEmpty
                ? [Diagnostic(location: stage.withLocations.block,
                              message: "the `with:` of stage '\(stage.name)' cannot be read by kind '\(stage.kind)'")]
                : outcome.diagnostics
            throw SettingsFailure(diagnostics: diagnostics)
        }
        return settings
    }

    // MARK: The attempts

    struct Outcome {
        var settings: (any KindSettings)?
        var diagnostics: [Diagnostic]
    }

    static func run(_ type: any KindSettings.Type, root: SettingsNode, stage: Stage, suggest: Bool) -> Outcome {
        if type == NoSettings.self {
            guard case .mapping(let members) = root, !members.isEmpty else { return Outcome(settings: NoSettings(), diagnostics: []) }
            let fix = stage.kind == "command" ? "pass values to the command in `run:` or `env:`" : "remove `with:`"
            return Outcome(settings: nil, diagnostics: [Diagnostic(
                location: stage.withLocations.block, message: "kind '\(stage.kind)' takes no `with:` settings; \(fix)")])
        }
        var diagnostics: [Diagnostic] = []
        var seen = Set<Diagnostic>()
        func report(_ diagnostic: Diagnostic) {
            if seen.insert(diagnostic).inserted { diagnostics.append(diagnostic) }
        }
        var setAside = Set<SettingsPath>()
        let keys = KeyRecord()
        for _ in 0..<attemptLimit {
            let attempt = Attempt(setAside: setAside, keys: keys)
            do {
                let settings = try type.init(from: Reader(node: root, unknown: false, path: .root, attempt: attempt))
                unknownKeys(keys, completed: attempt, stage: stage, suggest: suggest).forEach(report)
                return Outcome(settings: diagnostics.isEmpty ? settings : nil, diagnostics: diagnostics)
            } catch {
                let problem = Problem(error, stage: stage)
                if !isDropped(problem, root: root, setAside: setAside) { report(problem.diagnostic) }
                guard let next = nextSetAside(after: problem, setAside: setAside) else {
                    // A problem of the settings as a whole comes after every key was read.
                    unknownKeys(keys, completed: problem.path.isRoot ? attempt : nil, stage: stage, suggest: suggest)
                        .forEach(report)
                    break
                }
                setAside.insert(next)
            }
        }
        return Outcome(settings: nil, diagnostics: diagnostics)
    }

    /// One failed decode, as a diagnostic and the value it is about.
    struct Problem {
        /// The value the problem is about (for a missing key, the key's would-be value).
        var path: SettingsPath
        var diagnostic: Diagnostic
        /// Whether the problem is in the shape (a missing key, a wrong type), which a value
        /// not known yet elsewhere in the same subtree cannot change.
        var isStructural: Bool

        init(_ error: any Error, stage: Stage) {
            let locations = stage.withLocations
            switch error {
            case let error as SettingsError:
                path = error.path ?? .root
                diagnostic = Diagnostic(location: locations.value(at: path), message: "\(path.shown): \(error.message)")
                isStructural = false
            case DecodingError.keyNotFound(let key, let context):
                let container = SettingsPath(codingPath: context.codingPath)
                path = container.appending(key: key.stringValue)
                let message = container.isRoot
                    ? "stage '\(stage.name)' is missing `with:` key '\(key.stringValue)' required by kind '\(stage.kind)'; "
                        + "add it under `with:`"
                    : "\(container.shown): missing key '\(key.stringValue)'; add it"
                diagnostic = Diagnostic(location: locations.value(at: container), message: message)
                isStructural = true
            case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
                path = SettingsPath(codingPath: context.codingPath)
                diagnostic = Diagnostic(location: locations.value(at: path), message: "\(path.shown): \(context.debugDescription)")
                isStructural = true
            case DecodingError.dataCorrupted(let context):
                path = SettingsPath(codingPath: context.codingPath)
                diagnostic = Diagnostic(location: locations.value(at: path), message: "\(path.shown): \(context.debugDescription)")
                isStructural = false
            default:
                path = .root
                diagnostic = Diagnostic(location: locations.block, message: "with: \(error)")
                isStructural = false
            }
        }
    }

    /// Whether a problem is not to be reported: it is about a value not known yet (or
    /// inside one), about a value set aside, or — unless it is in the shape — about a
    /// value that has one not known yet inside it.
    static func isDropped(_ problem: Problem, root: SettingsNode, setAside: Set<SettingsPath>) -> Bool {
        var node: SettingsNode? = root
        var path = SettingsPath.root
        for component in problem.path.components {
            path = path.appending(component)
            if setAside.contains(path) { return true }
            switch (node, component) {
            case (.mapping(let members)?, .key(let key)): node = members[key]
            case (.list(let items)?, .index(let index)): node = items.indices.contains(index) ? items[index] : nil
            default: node = nil
            }
            if case .deferred? = node { return true }
        }
        return !problem.isStructural && node?.containsDeferred == true
    }

    /// What to set aside for the next attempt: the value the problem is about, or, when
    /// it is inside a value set aside already (whose placeholder fails too), the value
    /// around that one; nil to stop, at the root.
    static func nextSetAside(after problem: Problem, setAside: Set<SettingsPath>) -> SettingsPath? {
        var target = problem.path
        while !target.isRoot, setAside.contains(where: { target.isWithin($0) }) {
            target = target.parent
        }
        return target.isRoot ? nil : target
    }

    /// Every key of a mapping the type opened that no key type of it accepts, and, after
    /// an attempt that got through (`completed`), that the attempt never asked for. The
    /// keys a did-you-mean chooses from are listed only when they are all known: after
    /// such an attempt, or from a `CaseIterable` key type.
    static func unknownKeys(_ keys: KeyRecord, completed: Attempt?, stage: Stage, suggest: Bool) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        for (path, members) in keys.members.sorted(by: { $0.key.description < $1.key.description })
        where !keys.listed.contains(path) {
            var unknown = Set(members).subtracting(keys.accepted[path] ?? [])
            if let completed, completed.opened.contains(path) {
                unknown.formUnion(Set(members).subtracting(completed.requested[path] ?? []))
            }
            let named = (keys.named[path] ?? []).sorted()
            // The keys are listed only when all of them are known; otherwise only a did-you-mean.
            let listable = keys.enumerated.contains(path) || completed?.opened.contains(path) == true
            for key in unknown.sorted() {
                var hint = ""
                if listable {
                    hint = Suggestions.hint(for: key, in: named, listing: "its keys", suggest: suggest)
                } else if suggest, let suggestion = Suggestions.closest(to: key, in: named) {
                    hint = "; did you mean '\(suggestion)'?"
                }
                let message = path.isRoot
                    ? "unknown `with:` key '\(key)' for kind '\(stage.kind)'\(hint)"
                    : "\(path.shown): unknown key '\(key)'\(hint)"
                diagnostics.append(Diagnostic(location: stage.withLocations.key(at: path.appending(key: key)), message: message))
            }
        }
        return diagnostics
    }
}
