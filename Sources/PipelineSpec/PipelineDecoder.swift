/// Turns the YAML tree of a pipeline file into a `Pipeline`, reporting every problem it
/// finds to a `DiagnosticSink` instead of stopping at the first.
///
/// Decoding is in three passes: the top level (this file), each stage
/// (`PipelineDecoder+Stage.swift`), then the checks that need every stage at once
/// (`PipelineDecoder+Checks.swift`: needs, expression references, cycles).
final class PipelineDecoder {
    /// A mapping entry whose key is a string.
    struct Entry {
        var key: String
        var keyNode: YAMLNode
        var value: YAMLNode
    }

    static let topLevelKeys = ["version", "name", "params", "env", "secrets", "remote", "stages"]
        + ["params_files"]  // sweeps: params read from files (Pipeline+ParamsFiles.swift)

    let file: String
    let source: String
    let kinds: [String: KindSchema]
    /// The secret providers the engine registers, sorted: the keys a source may use.
    let secretProviders: [String]
    /// Every name under `secrets:`, also those whose source has a problem (already
    /// reported), so that a stage using one is not reported a second time.
    var secretNames: Set<String> = []
    let sink: DiagnosticSink
    /// While a stage instance of a `matrix:` is decoded: its values (null for a key only
    /// other instances have), which `template` puts in place of `matrix.KEY`.
    var matrixValues: [String: Value]?
    /// Stage with `matrix:` -> its instances' names; and -> every key its matrix has.
    var matrixGroups: [String: [String]] = [:]
    var matrixKeys: [String: [String]] = [:]
    /// Stages whose `matrix:` has a problem (reported): references to them are not
    /// reported a second time.
    var brokenGroups: Set<String> = []
    private var sourceLines: [[Unicode.Scalar]]?

    init(file: String, source: String, kinds: [String: KindSchema], secretProviders: Set<String>, sink: DiagnosticSink) {
        self.file = file
        self.source = source
        self.kinds = kinds
        self.secretProviders = secretProviders.sorted()
        self.sink = sink
    }

    // MARK: Top level

    func decode(_ root: YAMLNode) -> Pipeline? {
        guard let topEntries = entries(of: root, what: "the pipeline file",
                                    example: "`version: 1`, `name:` and `stages:`") else { return nil }
        checkKeys(topEntries, allowed: Self.topLevelKeys, in: "at the top level")
        let byKey = Dictionary(topEntries.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })

        var version = 1
        if let entry = byKey["version"] {
            if entry.value.scalarValue == .int(1) {
                version = 1
            } else if case .int(let number)? = entry.value.scalarValue {
                sink.error("unsupported version \(number); this mlpipe reads `version: 1`", at: location(entry.value))
            } else {
                sink.error("expected the number 1 for `version`, found \(describe(entry.value)); write `version: 1`",
                           at: location(entry.value))
            }
        } else {
            sink.error("missing `version`; add `version: 1` at the top of the file", at: location(root))
        }

        var name = ""
        if let entry = byKey["name"] {
            if let text = string(entry.value, what: "`name`") {
                if Self.isPipelineName(text) {
                    name = text
                } else {
                    sink.error("invalid pipeline name '\(text)'; use only letters, digits, '_', '.' and '-'",
                               at: location(entry.value))
                }
            }
        } else {
            sink.error("missing `name`; add a pipeline name, e.g. `name: iris`", at: location(root))
        }

        var params: [String: Value] = [:]
        var paramOrder: [String] = []
        var paramLocations: [String: SourceLocation] = [:]
        if let entry = byKey["params"], !isNull(entry.value),
           let items = entries(of: entry.value, what: "`params`", example: "`min_accuracy: 0.9`") {
            for item in items {
                guard !item.key.isEmpty else {
                    sink.error("a param needs a name; remove the empty key", at: location(item.keyNode))
                    continue
                }
                params[item.key] = value(of: item.value)
                paramOrder.append(item.key)
                paramLocations[item.key] = location(item.keyNode)
            }
        }

        var env: [String: String] = [:]
        if let entry = byKey["env"], !isNull(entry.value),
           let items = entries(of: entry.value, what: "`env`", example: "`PYTHONHASHSEED: \"0\"`") {
            for item in items where checkVariableName(item) {
                guard let text = envText(item.value, name: item.key) else { continue }
                if text.contains("${{") {
                    sink.error("expressions are not allowed in the pipeline's `env`; "
                               + "move '\(item.key)' to the `env:` of the stages that need it",
                               at: location(item.value))
                    continue
                }
                env[item.key] = text
            }
        }

        var secrets: [String: SecretSource] = [:]
        if let entry = byKey["secrets"], !isNull(entry.value),
           let items = entries(of: entry.value, what: "`secrets`", example: "`TOKEN: { env: TOKEN }`") {
            for item in items where checkVariableName(item) {
                secretNames.insert(item.key)
                if let secret = secretSource(item) { secrets[item.key] = secret }
            }
        }

        let remote = byKey["remote"].flatMap { isNull($0.value) ? nil : remoteSetting($0) }

        var drafts: [StageDraft] = []
        if let entry = byKey["stages"] {
            if let items = entries(of: entry.value, what: "`stages`", example: "`train: { run: python3 train.py }`") {
                if items.isEmpty {
                    sink.error("`stages` is empty; add at least one stage", at: location(entry.value))
                }
                for item in items {
                    guard Self.isStageName(item.key) else {
                        sink.error("invalid stage name '\(item.key)'; use letters, digits, '_' and '-', "
                                   + "starting with a letter or '_'", at: location(item.keyNode))
                        continue
                    }
                    drafts += stageInstances(item)
                }
            }
        } else {
            sink.error("missing `stages`; add a `stages:` mapping with at least one stage", at: location(root))
        }

        let paramsLocation = byKey["params"].map { location($0.keyNode) } ?? .start(of: file)
        var pipeline = Pipeline(file: file, source: source, version: version, name: name, params: params,
                                paramOrder: paramOrder, paramLocations: paramLocations,
                                paramsLocation: paramsLocation, env: env, secrets: secrets, stages: [])
        pipeline.paramsFiles = paramsFiles(byKey["params_files"])
        pipeline.remote = remote
        pipeline.stages = check(drafts, in: pipeline)
        pipeline.matrixGroups = matrixGroups
        return sink.isEmpty ? pipeline : nil
    }

    /// `{ PROVIDER: REFERENCE }`: exactly one key, a registered provider, a non-empty
    /// string reference.
    private func secretSource(_ item: Entry) -> SecretSource? {
        let example = "`{ env: \(item.key) }` or `{ file: /run/secrets/x }`"
        guard let fields = entries(of: item.value, what: "secret '\(item.key)'", example: example) else { return nil }
        guard fields.count == 1, let field = fields.first else {
            if fields.isEmpty {
                sink.error("secret '\(item.key)' has no source; write `{ PROVIDER: REFERENCE }`, e.g. \(example)"
                           + providerList, at: location(item.keyNode))
            } else {
                let keys = fields.map { "`\($0.key):`" }
                let written = keys.count == 2 ? "both \(keys[0]) and \(keys[1])" : "\(keys.count) sources (\(keys.joined(separator: ", ")))"
                sink.error("secret '\(item.key)' has \(written); keep one of them", at: location(item.keyNode))
            }
            return nil
        }
        guard secretProviders.contains(field.key) else {
            var message = "unknown secret provider '\(field.key)' in secret '\(item.key)'"
            if let suggestion = Suggestions.closest(to: field.key, in: secretProviders) {
                message += "; did you mean '\(suggestion)'? (known providers: \(secretProviders.joined(separator: ", ")))"
            } else {
                message += providerList
            }
            sink.error(message, at: location(field.keyNode))
            return nil
        }
        guard let text = string(field.value, what: "`\(field.key)` of secret '\(item.key)'") else { return nil }
        guard !text.isEmpty else {
            sink.error("`\(field.key)` of secret '\(item.key)' is empty; write what the provider looks up, e.g. \(example)",
                       at: location(field.value))
            return nil
        }
        if field.key == "vault" {
            // The one provider whose reference has a syntax the loader knows (VaultReference),
            // so that a malformed path is a lint error at its line, not a failed run.
            do throws(VaultReference.Malformed) {
                _ = try VaultReference(parsing: text)
            } catch {
                sink.error("`vault` of secret '\(item.key)': \(error.problem)", at: location(field.value))
                return nil
            }
        }
        return SecretSource(provider: field.key, reference: text, location: location(item.keyNode))
    }

    /// `remote: URL`, or `remote: { url: URL, access_key_id: SECRET, secret_access_key:
    /// SECRET, session_token: SECRET }` naming declared secrets; the URL checked at its place.
    private func remoteSetting(_ entry: Entry) -> RemoteSetting? {
        var urlNode = entry.value
        var secretFields: [String: String] = [:]
        if entry.value.pairs != nil {
            guard let fields = entries(of: entry.value, what: "`remote`", example: "`url: s3://bucket/prefix`") else { return nil }
            let allowed = ["url", "access_key_id", "secret_access_key", "session_token"]
            checkKeys(fields, allowed: allowed, in: "in `remote`")
            guard let url = fields.first(where: { $0.key == "url" }) else {
                sink.error("`remote` has no `url`; add `url: s3://bucket/prefix`", at: location(entry.keyNode))
                return nil
            }
            urlNode = url.value
            for field in fields where field.key != "url" && allowed.contains(field.key) {
                guard let name = string(field.value, what: "`\(field.key)` of `remote`") else { continue }
                guard secretNames.contains(name) else {
                    sink.error("`\(field.key)` of `remote` names secret '\(name)', which is not declared; add it under `secrets:`"
                               + sink.hint(for: name, in: secretNames.sorted(), listing: "declared secrets"), at: location(field.value))
                    continue
                }
                secretFields[field.key] = name
            }
        }
        guard let text = string(urlNode, what: "`remote`") else { return nil }
        do {
            return RemoteSetting(url: try RemoteURL(parsing: text), location: location(urlNode),
                                 accessKeyIDSecret: secretFields["access_key_id"],
                                 secretAccessKeySecret: secretFields["secret_access_key"],
                                 sessionTokenSecret: secretFields["session_token"])
        } catch {
            sink.error(error.description, at: location(urlNode))
            return nil
        }
    }

    /// `; known providers: env, file`, or a note that there are none.
    private var providerList: String {
        secretProviders.isEmpty
            ? "; no secret provider is registered"
            : "; known providers: \(secretProviders.joined(separator: ", "))"
    }

    // MARK: Names

    static func isPipelineName(_ text: String) -> Bool {
        !text.isEmpty && text.unicodeScalars.allSatisfy { isASCIIAlphanumeric($0) || "_.-".unicodeScalars.contains($0) }
    }

    static func isStageName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first == "_" || isASCIILetter(first) else { return false }
        return text.unicodeScalars.allSatisfy { isASCIIAlphanumeric($0) || $0 == "_" || $0 == "-" }
    }

    static func isVariableName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first == "_" || isASCIILetter(first) else { return false }
        return text.unicodeScalars.allSatisfy { isASCIIAlphanumeric($0) || $0 == "_" }
    }

    static func isASCIILetter(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
    }

    static func isASCIIAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        isASCIILetter(scalar) || ("0"..."9").contains(scalar)
    }

    /// Reports and returns false when an env or secret name is not `[A-Za-z_][A-Za-z0-9_]*`.
    func checkVariableName(_ item: Entry) -> Bool {
        if Self.isVariableName(item.key) { return true }
        sink.error("invalid variable name '\(item.key)'; use letters, digits and '_', not starting with a digit",
                   at: location(item.keyNode))
        return false
    }

    // MARK: Typed reading

    func location(_ node: YAMLNode) -> SourceLocation {
        SourceLocation(file: file, line: node.line, column: node.column)
    }

    func isNull(_ node: YAMLNode) -> Bool { node.scalarValue == .null }

    /// "a list", "a mapping", "the string 'x'" … for "found …" messages.
    func describe(_ node: YAMLNode) -> String {
        switch node.scalarValue {
        case .string(let text)?: return "the string '\(text.prefix(40))'"
        case .int, .double: return "the number \(node.scalar?.text ?? "")"
        case .bool(let flag)?: return "the boolean \(flag)"
        default: return node.typeDescription
        }
    }

    /// The entries of a mapping with string keys, or nil (reported) when `node` is not a
    /// mapping. Collection keys are reported and skipped.
    func entries(of node: YAMLNode, what: String, example: String) -> [Entry]? {
        guard let pairs = node.pairs else {
            sink.error("expected a mapping for \(what), found \(node.typeDescription); write it as "
                       + "`key: value` lines, e.g. \(example)", at: location(node))
            return nil
        }
        var result: [Entry] = []
        for pair in pairs {
            guard let key = pair.key.keyText else {
                sink.error("expected a name as a key in \(what), found \(pair.key.typeDescription)",
                           at: location(pair.key))
                continue
            }
            result.append(Entry(key: key, keyNode: pair.key, value: pair.value))
        }
        return result
    }

    /// Reports every key not in `allowed`, with a did-you-mean.
    func checkKeys(_ entries: [Entry], allowed: [String], in context: String) {
        for entry in entries where !allowed.contains(entry.key) {
            sink.error("unknown key '\(entry.key)' \(context)"
                       + sink.hint(for: entry.key, in: allowed.sorted(), listing: "valid keys"),
                       at: location(entry.keyNode))
        }
    }

    /// A string scalar (numbers are taken as written); reports anything else.
    func string(_ node: YAMLNode, what: String) -> String? {
        switch node.scalarValue {
        case .string(let text)?: return text
        case .int?, .double?: return node.scalar?.text
        default:
            let hint: String
            switch node.scalarValue {
            case .bool?: hint = "; put it in quotes if you mean text"
            case .null?: hint = "; write a value after the colon"
            default: hint = ""
            }
            sink.error("expected a string for \(what), found \(node.typeDescription)\(hint)", at: location(node))
            return nil
        }
    }

    /// A string or a list of strings, each with its node; reports anything else.
    func stringList(_ node: YAMLNode, what: String, example: String) -> [(String, YAMLNode)]? {
        if node.scalar != nil, case .string(let text)? = node.scalarValue { return [(text, node)] }
        guard let items = node.items else {
            sink.error("expected a string or a list of strings for \(what), found \(node.typeDescription); "
                       + "write e.g. \(example)", at: location(node))
            return nil
        }
        var result: [(String, YAMLNode)] = []
        for item in items {
            switch item.scalarValue {
            case .string(let text)?: result.append((text, item))
            case .int?, .double?: result.append((item.scalar?.text ?? "", item))
            default:
                sink.error("expected a list of strings for \(what), found \(item.typeDescription) in the list",
                           at: location(item))
            }
        }
        return result
    }

    /// An env value as text: strings, and numbers and booleans as written.
    func envText(_ node: YAMLNode, name: String) -> String? {
        switch node.scalarValue {
        case .string(let text)?: return text
        case .int?, .double?, .bool?: return node.scalar?.text
        default:
            let hint = isNull(node) ? "; write `\(name): \"\"` for an empty value" : ""
            sink.error("expected a string, number or boolean for env '\(name)', found \(node.typeDescription)\(hint)",
                       at: location(node))
            return nil
        }
    }

    /// A YAML subtree as a `Value` (depth and size are bounded by the composer).
    func value(of node: YAMLNode) -> Value {
        switch node.content {
        case .scalar: return node.scalarValue ?? .null
        case .sequence(let items): return .array(items.map { value(of: $0) })
        case .mapping:
            var members: [String: Value] = [:]
            for entry in entries(of: node, what: "a value", example: "`key: value`") ?? [] {
                members[entry.key] = value(of: entry.value)
            }
            return .object(members)
        }
    }

    // MARK: Templates

    /// Parses a scalar as a template, reporting malformed expressions at their token. In
    /// a stage instance, `matrix.KEY` is replaced by the instance's value.
    func template(_ node: YAMLNode, text: String) -> Template {
        let template = parsedTemplate(node, text: text)
        guard let matrixValues else { return template }
        return template.substituting("matrix", matrixValues)
    }

    /// `template` without the matrix values put in.
    func parsedTemplate(_ node: YAMLNode, text: String) -> Template {
        let (template, errors) = Template.parse(text, location: location(node), locate: locator(for: node, raw: text))
        for error in errors { sink.error(error.message, at: error.location) }
        return template
    }

    /// Maps offsets in a scalar's text to file positions. Exact for a one-line scalar that
    /// reads as written; for other scalars (multi-line, escapes), each `${{` of the text is
    /// matched with the same `${{` in the file, and offsets after it count from there.
    func locator(for node: YAMLNode, raw: String) -> (Int) -> SourceLocation {
        let start = location(node)
        let rawScalars = Array(raw.unicodeScalars)
        let lines = self.lines
        let quoted = node.scalar?.style == .singleQuoted || node.scalar?.style == .doubleQuoted
        let opening = quoted ? 1 : 0
        if node.line == node.endLine, node.line - 1 < lines.count {
            let line = lines[node.line - 1]
            let from = node.column - 1 + opening
            if from >= 0, from + rawScalars.count <= line.count,
               line[from..<(from + rawScalars.count)].elementsEqual(rawScalars) {
                return { start.advanced(by: opening + $0) }
            }
        }
        // The scalar's characters in the file, with their positions.
        var region: [(scalar: Unicode.Scalar, line: Int, column: Int)] = []
        for lineNumber in node.line...max(node.line, node.endLine) where lineNumber - 1 < lines.count {
            let text = lines[lineNumber - 1]
            let first = lineNumber == node.line ? node.column - 1 : 0
            let last = lineNumber == node.endLine ? min(text.count, node.endColumn - 1) : text.count
            guard first < last else { continue }
            for index in first..<last { region.append((text[index], lineNumber, index + 1)) }
            region.append(("\n", lineNumber, last + 1))
        }
        let sourceOpens = Self.openings(region.map(\.scalar))
        let rawOpens = Self.openings(rawScalars)
        guard sourceOpens.count == rawOpens.count else { return { _ in start } }
        let file = self.file
        return { offset in
            // The last `${{` at or before `offset`, by binary search (a scalar may hold thousands).
            var low = 0
            var high = rawOpens.count
            while low < high {
                let middle = (low + high) / 2
                if rawOpens[middle] <= offset { low = middle + 1 } else { high = middle }
            }
            guard low > 0 else { return start }
            let k = low - 1
            let anchor = region[sourceOpens[k]]
            let delta = offset - rawOpens[k]
            for step in 0..<delta {
                let sourceIndex = sourceOpens[k] + step
                let rawIndex = rawOpens[k] + step
                guard sourceIndex < region.count, rawIndex < rawScalars.count,
                      region[sourceIndex].scalar == rawScalars[rawIndex], rawScalars[rawIndex] != "\n" else {
                    return SourceLocation(file: file, line: anchor.line, column: anchor.column)
                }
            }
            return SourceLocation(file: file, line: anchor.line, column: anchor.column + delta)
        }
    }

    private static func openings(_ scalars: [Unicode.Scalar]) -> [Int] {
        guard scalars.count >= 3 else { return [] }
        return (0..<(scalars.count - 2)).filter {
            scalars[$0] == "$" && scalars[$0 + 1] == "{" && scalars[$0 + 2] == "{"
        }
    }

    /// The file's lines as Unicode scalars, split once on first use.
    private var lines: [[Unicode.Scalar]] {
        if let sourceLines { return sourceLines }
        var result: [[Unicode.Scalar]] = [[]]
        for scalar in source.unicodeScalars {
            if scalar == "\n" {
                result.append([])
            } else {
                result[result.count - 1].append(scalar)
            }
        }
        sourceLines = result
        return result
    }
}
