/// A stage's `matrix:` as read: its combinations in order, and every key any of them has.
struct DecodedMatrix {
    /// One combination: the keys it has (in name order), their values and their texts as
    /// written.
    struct Combination {
        var keys: [String]
        var values: [String: Value]
        var written: [String: String]
    }

    var combinations: [Combination]
    /// The matrix's keys (in the order written), then the keys only `include:` entries add.
    var keys: [String]
}

/// `matrix:` on a stage, with GitHub Actions' `strategy.matrix` semantics.
///
/// The keys other than `include` and `exclude` each give a list of values; their
/// product, in the order written (the last key varies fastest), gives the combinations.
/// `exclude:` entries (partial combinations, keys of the matrix only) remove every
/// combination they match. Then each `include:` entry is added to every combination whose
/// original values it does not contradict (its keys that are not matrix keys are added,
/// overwriting what an earlier `include:` added); an entry that fits no combination
/// becomes a combination of its own.
extension PipelineDecoder {
    /// More instances than this are refused: a sweep that large belongs in a scheduler
    /// of its own, and a typo (`range: [1, …, 10000]`) should not start ten thousand runs.
    static let matrixLimit = 1_000
    static let matrixExample = "`matrix: { lr: [0.1, 0.2], depth: [3, 5] }`"

    /// Reads the `matrix:` of stage `stage`; nil (reported) when it has a problem.
    func matrix(_ entry: Entry, stage: String) -> DecodedMatrix? {
        let context = "`matrix` of stage '\(stage)'"
        guard let items = entries(of: entry.value, what: context, example: Self.matrixExample) else { return nil }
        let problems = sink.diagnostics.count
        var keys: [String] = []
        var lists: [[(value: Value, written: String)]] = []
        var excludeEntry: Entry?
        var includeEntry: Entry?
        for item in items {
            switch item.key {
            case "exclude": excludeEntry = item
            case "include": includeEntry = item
            default:
                guard ExpressionLexer.isIdentifier(item.key) else {
                    sink.error("invalid matrix key '\(item.key)' in stage '\(stage)'; use letters, digits, '_' and '-', "
                               + "starting with a letter or '_', so that ${{ matrix.KEY }} can name it",
                               at: location(item.keyNode))
                    continue
                }
                guard let nodes = item.value.items else {
                    sink.error("expected a list of values for matrix key '\(item.key)' of stage '\(stage)', found "
                               + "\(describe(item.value)); write e.g. `\(item.key): [\(item.value.scalar?.text ?? "a")]`",
                               at: location(item.value))
                    continue
                }
                guard !nodes.isEmpty else {
                    sink.error("matrix key '\(item.key)' of stage '\(stage)' has no values; list at least one, "
                               + "or remove the key", at: location(item.value))
                    continue
                }
                var values: [(value: Value, written: String)] = []
                for node in nodes {
                    guard let value = matrixValue(node, key: item.key, stage: stage) else { continue }
                    if values.contains(where: { $0.value == value.value }) {
                        sink.error("value \(value.written) appears twice in matrix key '\(item.key)' of stage '\(stage)'; "
                                   + "remove one", at: location(node))
                        continue
                    }
                    values.append(value)
                }
                keys.append(item.key)
                lists.append(values)
            }
        }
        if keys.isEmpty && includeEntry == nil && sink.diagnostics.count == problems {
            sink.error("the \(context) is empty; give at least one key with a list of values, e.g. \(Self.matrixExample)",
                       at: location(entry.value))
        }
        // Before building anything: the product alone may be far too large.
        var product = keys.isEmpty ? 0 : 1
        for list in lists {
            let (next, overflow) = product.multipliedReportingOverflow(by: max(list.count, 1))
            product = overflow ? .max : next
        }
        if product > Self.matrixLimit * 100 {
            sink.error(limitMessage(count: product, keys: keys, lists: lists.map(\.count), stage: stage), at: location(entry.keyNode))
            return nil
        }
        guard sink.diagnostics.count == problems else { return nil }

        var combinations: [DecodedMatrix.Combination] = []
        if !keys.isEmpty {
            combinations = [DecodedMatrix.Combination(keys: [], values: [:], written: [:])]
            for (key, list) in zip(keys, lists) {
                combinations = combinations.flatMap { combination in
                    list.map { item in
                        var next = combination
                        next.keys.append(key)
                        next.values[key] = item.value
                        next.written[key] = item.written
                        return next
                    }
                }
            }
        }
        if let excludeEntry {
            let excludes = partialCombinations(excludeEntry, what: "`exclude` of stage '\(stage)'", stage: stage, allowed: keys)
            combinations.removeAll { combination in
                excludes.contains { exclude in exclude.keys.allSatisfy { combination.values[$0] == exclude.values[$0] } }
            }
        }
        var allKeys = keys
        if let includeEntry {
            let includes = partialCombinations(includeEntry, what: "`include` of stage '\(stage)'", stage: stage, allowed: nil)
            let originals = combinations.count
            for include in includes {
                for key in include.keys where !allKeys.contains(key) { allKeys.append(key) }
                var fitted = false
                for index in 0..<originals where include.keys.allSatisfy({ !keys.contains($0) || combinations[index].values[$0] == include.values[$0] }) {
                    fitted = true
                    for key in include.keys where !keys.contains(key) {
                        if combinations[index].values[key] == nil { combinations[index].keys.append(key) }
                        combinations[index].values[key] = include.values[key]
                        combinations[index].written[key] = include.written[key]
                    }
                }
                if !fitted { combinations.append(include) }
            }
        }
        guard sink.diagnostics.count == problems else { return nil }
        // Names list keys in one order for all instances: the matrix's, then include's.
        for index in combinations.indices {
            combinations[index].keys = allKeys.filter { combinations[index].values[$0] != nil }
        }
        if combinations.isEmpty {
            sink.error("every combination of the \(context) is excluded, so the stage would not run; "
                       + "remove an `exclude` entry or add values", at: location(entry.keyNode))
            return nil
        }
        if combinations.count > Self.matrixLimit {
            sink.error(limitMessage(count: combinations.count, keys: keys, lists: lists.map(\.count), stage: stage),
                       at: location(entry.keyNode))
            return nil
        }
        return DecodedMatrix(combinations: combinations, keys: allKeys)
    }

    private func limitMessage(count: Int, keys: [String], lists: [Int], stage: String) -> String {
        let sizes = zip(keys, lists).map { "\($1) \($0)" }.joined(separator: " × ")
        let shown = count == .max ? "more than \(Int.max)" : "\(count)"
        return "the `matrix` of stage '\(stage)' makes \(shown) instances (\(sizes)), more than the \(Self.matrixLimit) "
            + "allowed; use fewer values, `exclude` combinations, or split the sweep into stages"
    }

    /// A matrix value: a string, number or boolean, without `${{ }}`.
    private func matrixValue(_ node: YAMLNode, key: String, stage: String) -> (value: Value, written: String)? {
        switch node.scalarValue {
        case .string(let text)?:
            if text.contains("${{") {
                sink.error("matrix values are plain values; `${{ }}` is not allowed in the `matrix` of stage '\(stage)'",
                           at: location(node))
                return nil
            }
            if text.isEmpty || text.contains("/") || text.unicodeScalars.contains(where: { $0.value < 0x20 || $0 == "]" }) {
                sink.error("matrix value '\(text)' of key '\(key)' in stage '\(stage)' cannot be part of an instance name "
                           + "(it names the instance's output folder): use a non-empty name without '/', ']' or control "
                           + "characters, and build paths in the command, e.g. `data/${{ matrix.\(key) }}.csv`",
                           at: location(node))
                return nil
            }
            return (.string(text), text)
        case .int?, .double?, .bool?:
            return (node.scalarValue ?? .null, node.scalar?.text ?? "")
        default:
            sink.error("matrix values must be strings, numbers or booleans; found \(describe(node)) in matrix key "
                       + "'\(key)' of stage '\(stage)'", at: location(node))
            return nil
        }
    }

    /// The mappings of an `exclude:` or `include:` list. With `allowed`, every key must be
    /// one of them (an `exclude` entry names matrix keys only).
    private func partialCombinations(_ entry: Entry, what: String, stage: String,
                                     allowed: [String]?) -> [DecodedMatrix.Combination] {
        let example = entry.key == "exclude" ? "`exclude: [{ lr: 0.1, depth: 5 }]`" : "`include: [{ lr: 0.3, depth: 7 }]`"
        guard let nodes = entry.value.items else {
            sink.error("expected a list of mappings for \(what), found \(describe(entry.value)); write e.g. \(example)",
                       at: location(entry.value))
            return []
        }
        var result: [DecodedMatrix.Combination] = []
        for node in nodes {
            guard node.pairs != nil, let fields = entries(of: node, what: "an entry of \(what)", example: example) else {
                if node.pairs == nil {
                    sink.error("expected a mapping in \(what), found \(describe(node)); write e.g. \(example)",
                               at: location(node))
                }
                continue
            }
            var combination = DecodedMatrix.Combination(keys: [], values: [:], written: [:])
            for field in fields {
                if let allowed, !allowed.contains(field.key) {
                    let fix = allowed.isEmpty
                        ? "; the matrix has no keys to exclude"
                        : sink.hint(for: field.key, in: allowed, listing: "matrix keys")
                    sink.error("unknown matrix key '\(field.key)' in \(what)\(fix)", at: location(field.keyNode))
                    continue
                }
                guard ExpressionLexer.isIdentifier(field.key) else {
                    sink.error("invalid matrix key '\(field.key)' in \(what); use letters, digits, '_' and '-'",
                               at: location(field.keyNode))
                    continue
                }
                guard let value = matrixValue(field.value, key: field.key, stage: stage) else { continue }
                combination.keys.append(field.key)
                combination.values[field.key] = value.value
                combination.written[field.key] = value.written
            }
            if fields.isEmpty {
                sink.error("an entry of \(what) is empty; give the keys and values it matches, e.g. \(example)",
                           at: location(node))
            }
            result.append(combination)
        }
        return result
    }

    /// The message for a `matrix.KEY` reference left after expansion: the stage has no
    /// matrix, or no such key.
    func matrixReferenceProblem(_ path: [String], in stage: Stage) -> String {
        let written = Expression.describe(path)
        guard let instance = stage.matrix else {
            return "stage '\(stage.name)' has no `matrix:`, so '\(written)' has no value; add e.g. "
                + "`matrix: { \(path.count > 1 ? path[1] : "KEY"): [a, b] }` to the stage, or use params"
        }
        guard path.count == 2 else {
            return "'\(written)' is not a matrix value; write matrix.KEY (matrix values are strings, numbers or booleans)"
        }
        let keys = matrixKeys[instance.group] ?? instance.keys
        return "unknown matrix key '\(path[1])' in expression" + sink.hint(for: path[1], in: keys, listing: "matrix keys")
    }
}

extension PipelineDecoder {
    /// The drafts of one entry of `stages:`: the stage, or one per combination of its
    /// `matrix:`, each decoded with its values in place of `matrix.KEY`. A problem the
    /// instances share is reported once (the sink drops repeats).
    func stageInstances(_ item: Entry) -> [StageDraft] {
        guard let pair = item.value.pairs?.first(where: { $0.key.keyText == "matrix" }) else {
            return stage(item).map { [$0] } ?? []
        }
        let entry = Entry(key: "matrix", keyNode: pair.key, value: pair.value)
        guard let matrix = matrix(entry, stage: item.key) else {
            brokenGroups.insert(item.key)
            return []
        }
        matrixKeys[item.key] = matrix.keys
        var drafts: [StageDraft] = []
        var names = Set<String>()
        for combination in matrix.combinations {
            let instance = MatrixInstance(group: item.key, keys: combination.keys, values: combination.values,
                                          written: combination.written)
            guard names.insert(instance.name).inserted else {
                sink.error("two combinations of the `matrix` of stage '\(item.key)' are both '\(instance.name)'; "
                           + "remove the repeated `include` entry", at: location(entry.keyNode))
                continue
            }
            var values = combination.values
            for key in matrix.keys where values[key] == nil { values[key] = .null }
            matrixValues = values
            if let draft = stage(item, instance: instance) { drafts.append(draft) }
        }
        matrixValues = nil
        matrixGroups[item.key] = drafts.map(\.stage.name)
        return drafts
    }
}
