import Foundation

/// A decoded stage with what the cross-stage checks still need: where each `needs`
/// entry is written and which templates came from `run:`.
struct StageDraft {
    var stage: Stage
    var needSites: [(name: String, location: SourceLocation)]
    /// Where each name of the stage's `secrets:` is written.
    var secretSites: [(name: String, location: SourceLocation)] = []
    /// Templates in which `secrets.*` is not allowed.
    var runTemplates: [Template]
    /// Templates in which `secrets.*` is allowed (`env:` and `with:` values).
    var otherTemplates: [Template]
}

extension PipelineDecoder {
    static let stageKeys = ["kind", "run", "needs", "inputs", "outputs", "with", "env", "secrets",
                            "timeout", "retries", "cache", "metrics"]
        + ["matrix"]  // sweeps: PipelineDecoder+Matrix.swift
        + placementKeys  // resources, node_selector, executor: PipelineDecoder+Placement.swift


    /// Decodes one entry of `stages:`, or one instance of it when it has a `matrix:`;
    /// nil (reported) when it is not a mapping. Messages name the stage as written.
    func stage(_ item: Entry, instance: MatrixInstance? = nil) -> StageDraft? {
        let name = item.key
        let context = "stage '\(name)'"
        guard let fields = entries(of: item.value, what: context, example: "`run: python3 train.py`") else { return nil }
        checkKeys(fields, allowed: Self.stageKeys, in: "in \(context)")
        let byKey = Dictionary(fields.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        var stage = Stage(name: instance?.name ?? name, location: location(item.keyNode), kind: "", matrix: instance)
        var draft = StageDraft(stage: stage, needSites: [], runTemplates: [], otherTemplates: [])

        if let entry = byKey["run"], let text = string(entry.value, what: "`run` of \(context)") {
            let run = template(entry.value, text: text)
            stage.run = run
            draft.runTemplates.append(run)
        }

        // The kind: as written, or `command` when only `run:` is given.
        var schema: KindSchema?
        if let entry = byKey["kind"] {
            if let kind = string(entry.value, what: "`kind` of \(context)") {
                stage.kind = kind
                schema = kinds[kind]
                if schema == nil {
                    sink.error("unknown kind '\(kind)' in \(context)"
                               + sink.hint(for: kind, in: kinds.keys.sorted(), listing: "known kinds"),
                               at: location(entry.value))
                }
            }
        } else if byKey["run"] != nil {
            stage.kind = "command"
            schema = kinds["command"]
            if schema == nil {
                sink.error("\(context) has `run:` but no `kind:`, and kind 'command' is not available; add a `kind:`",
                           at: stage.location)
            }
        } else {
            sink.error("\(context) has no `kind:`; add `kind:` (one of: \(kinds.keys.sorted().joined(separator: ", "))) "
                       + "or a `run:` command", at: stage.location)
        }

        if let schema {
            if let entry = byKey["run"], !schema.runAllowed {
                sink.error("kind '\(schema.name)' takes no `run:`; remove it, or use `kind: command` for a shell command",
                           at: location(entry.keyNode))
            } else if byKey["run"] == nil, schema.runRequired {
                sink.error("\(context) of kind '\(schema.name)' has no `run:`; add the shell command to run",
                           at: stage.location)
            }
        }

        if let entry = byKey["needs"], !isNull(entry.value),
           let names = stringList(entry.value, what: "`needs` of \(context)", example: "`needs: [train, evaluate]`") {
            for (need, node) in names {
                draft.needSites.append((need, location(node)))
                if !stage.needs.contains(need) { stage.needs.append(need) }
            }
        }

        if let entry = byKey["inputs"], !isNull(entry.value),
           let paths = stringList(entry.value, what: "`inputs` of \(context)", example: "`inputs: [data/, train.py]`") {
            for (path, node) in paths where checkInput(path, at: location(node)) {
                stage.inputs.append(path)
                stage.inputLocations[path] = location(node)
            }
        }

        if let entry = byKey["outputs"], !isNull(entry.value) {
            stage.outputs = outputs(entry.value, context: context, stage: stage)
        }

        // `with:` is checked against the kind's settings type unless it is not a mapping
        // (reported as that); a missing key is reported at `with:`, or at the stage's name.
        var withIsMapping = true
        if let entry = byKey["with"], !isNull(entry.value) {
            if let settings = entries(of: entry.value, what: "`with` of \(context)", example: "`model: model.onnx`") {
                var locations = SettingsLocations(block: location(entry.keyNode))
                for setting in settings {
                    let path = SettingsPath.root.appending(key: setting.key)
                    locations.keys[path.description] = location(setting.keyNode)
                    let value = templateValue(setting.value, at: path, locations: &locations)
                    stage.with[setting.key] = value
                    draft.otherTemplates += value.templates
                }
                stage.withLocations = locations
            } else {
                withIsMapping = false
            }
        }
        if let schema, withIsMapping {
            let suggest = sink.diagnostics.count < DiagnosticSink.suggestionLimit
            var shown = stage  // messages name the stage as written, once for all its instances
            shown.name = name
            for diagnostic in SettingsDecoder.check(schema.settings, of: shown, suggest: suggest) {
                sink.error(diagnostic.message, at: diagnostic.location)
            }
        }

        if let entry = byKey["env"], !isNull(entry.value),
           let variables = entries(of: entry.value, what: "`env` of \(context)", example: "`SEED: \"42\"`") {
            for variable in variables where checkVariableName(variable) {
                guard let text = envText(variable.value, name: variable.key) else { continue }
                let value = variable.value.scalarValue?.string != nil
                    ? template(variable.value, text: text)
                    : Template(literal: text, location: location(variable.value))
                stage.env[variable.key] = value
                draft.otherTemplates.append(value)
            }
        }

        if let entry = byKey["secrets"], !isNull(entry.value),
           let names = stringList(entry.value, what: "`secrets` of \(context)", example: "`secrets: [API_TOKEN]`") {
            for (secret, node) in names {
                draft.secretSites.append((secret, location(node)))
                if !stage.secrets.contains(secret) { stage.secrets.append(secret) }
            }
        }

        if let entry = byKey["timeout"], !isNull(entry.value) { stage.timeout = timeout(entry.value) }

        if let entry = byKey["retries"] {
            if case .int(let count)? = entry.value.scalarValue, count >= 0 {
                stage.retries = count
            } else {
                sink.error("expected a whole number of 0 or more for `retries`, found \(describe(entry.value)); "
                           + "write e.g. `retries: 2`", at: location(entry.value))
            }
        }

        if let entry = byKey["cache"] {
            if case .bool(let flag)? = entry.value.scalarValue {
                stage.cache = flag
            } else {
                sink.error("expected true or false for `cache`, found \(describe(entry.value)); "
                           + "write `cache: false` (without quotes)", at: location(entry.value))
            }
        }

        if let entry = byKey["metrics"], !isNull(entry.value),
           let path = string(entry.value, what: "`metrics` of \(context)") {
            stage.metrics = relativePath(path, what: "metrics path", at: location(entry.value))
        }

        stage.placement = placement(byKey, context: context)

        draft.stage = stage
        return draft
    }

    // MARK: Fields

    private func checkInput(_ path: String, at location: SourceLocation) -> Bool {
        if path.isEmpty {
            sink.error("an input path is empty; name a file, a folder or a glob in the repository", at: location)
            return false
        }
        if path.contains("${{") {
            sink.error("inputs are plain repository paths; expressions are not allowed in `inputs`", at: location)
            return false
        }
        if path.hasPrefix("/") {
            sink.error("input '\(path)' is an absolute path; inputs are relative to the repository root", at: location)
            return false
        }
        if Self.normalize(path) == nil {
            sink.error("input '\(path)' leaves the repository; remove the '..' components", at: location)
            return false
        }
        return true
    }

    private func outputs(_ node: YAMLNode, context: String, stage stageForMessages: Stage) -> [StageOutput] {
        guard let items = entries(of: node, what: "`outputs` of \(context)", example: "`model: model.onnx`") else {
            return []
        }
        var outputs: [StageOutput] = []
        var byPath: [String: String] = [:]  // path -> output name
        var folders: [String: (name: String, path: String)] = [:]  // parent folder -> first output inside
        for item in items {
            guard ExpressionLexer.isIdentifier(item.key) else {
                sink.error("invalid output name '\(item.key)'; use letters, digits, '_' and '-', "
                           + "starting with a letter or '_'", at: location(item.keyNode))
                continue
            }
            guard var raw = string(item.value, what: "output '\(item.key)' of \(context)") else { continue }
            if matrixValues != nil, raw.contains("${{") {
                // In a matrix stage, `${{ matrix.KEY }}` gives each instance its own path.
                let rendered = template(item.value, text: raw)
                let leftover = rendered.referenceSites.filter { $0.path.first == "matrix" }
                for site in leftover { sink.error(matrixReferenceProblem(site.path, in: stageForMessages), at: site.location) }
                if !leftover.isEmpty { continue }
                if rendered.isLiteral { raw = rendered.raw }
            }
            guard let path = relativePath(raw, what: "output path", at: location(item.value)) else { continue }
            if let same = byPath[path] {
                sink.error("output '\(item.key)' has the same path '\(path)' as output '\(same)'; "
                           + "give each output its own path", at: location(item.value))
                continue
            }
            let components = path.split(separator: "/")
            let parents = (1..<max(1, components.count)).map { components.prefix($0).joined(separator: "/") }
            if let outer = parents.first(where: { byPath[$0] != nil }), let outerName = byPath[outer] {
                sink.error("output '\(item.key)' path '\(path)' is inside output '\(outerName)' path '\(outer)'; "
                           + "declare only the folder, or give them separate paths", at: location(item.value))
                continue
            }
            if let inner = folders[path] {
                sink.error("output '\(item.key)' path '\(path)' contains output '\(inner.name)' path '\(inner.path)'; "
                           + "declare only the folder, or give them separate paths", at: location(item.value))
                continue
            }
            byPath[path] = item.key
            for parent in parents where folders[parent] == nil { folders[parent] = (item.key, path) }
            outputs.append(StageOutput(name: item.key, path: path, location: location(item.keyNode)))
        }
        return outputs
    }

    /// A path inside the stage's output folder, normalised; reports and returns nil otherwise.
    private func relativePath(_ raw: String, what: String, at location: SourceLocation) -> String? {
        if raw.contains("${{") {
            sink.error("\(what) '\(raw)' contains an expression; \(what)s are plain relative paths "
                       + "(an output path may use `${{ matrix.KEY }}` in a stage with `matrix:`)", at: location)
            return nil
        }
        if raw.hasPrefix("/") {
            sink.error("\(what) '\(raw)' is absolute; write it relative to the stage's output folder, e.g. 'model.onnx'",
                       at: location)
            return nil
        }
        guard let path = Self.normalize(raw) else {
            sink.error("\(what) '\(raw)' leaves the stage's output folder; remove the '..' components", at: location)
            return nil
        }
        if path.isEmpty {
            sink.error("\(what) '\(raw)' names the output folder itself; give a file or folder name inside it",
                       at: location)
            return nil
        }
        return path
    }

    /// `a/./b/../c/` → `a/c`; nil when `..` climbs above the start.
    static func normalize(_ path: String) -> String? {
        var components: [Substring] = []
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch component {
            case ".": continue
            case "..":
                guard components.popLast() != nil else { return nil }
            default: components.append(component)
            }
        }
        return components.joined(separator: "/")
    }

    /// A `with:` value as written, noting where it and every value and key inside it are.
    private func templateValue(_ node: YAMLNode, at path: SettingsPath,
                               locations: inout SettingsLocations) -> TemplateValue {
        locations.values[path.description] = location(node)
        switch node.content {
        case .scalar:
            if case .string(let text)? = node.scalarValue {
                let value = TemplateValue.string(parsedTemplate(node, text: text))
                return matrixValues.map { value.substituting("matrix", $0) } ?? value
            }
            return .scalar(node.scalarValue ?? .null)
        case .sequence(let items):
            var values: [TemplateValue] = []
            for (index, item) in items.enumerated() {
                values.append(templateValue(item, at: path.appending(.index(index)), locations: &locations))
            }
            return .array(values)
        case .mapping:
            var members: [String: TemplateValue] = [:]
            for entry in entries(of: node, what: "a `with:` value", example: "`key: value`") ?? [] {
                let member = path.appending(key: entry.key)
                locations.keys[member.description] = location(entry.keyNode)
                members[entry.key] = templateValue(entry.value, at: member, locations: &locations)
            }
            return .object(members)
        }
    }

    /// Seconds from a number or a duration such as "90s", "10m", "1h30m", "250ms".
    private func timeout(_ node: YAMLNode) -> Double? {
        let seconds: Double?
        switch node.scalarValue {
        case .int(let number)?: seconds = Double(number)
        case .double(let number)?: seconds = number.isFinite ? number : nil
        case .string(let text)?: seconds = Self.duration(text)
        default: seconds = nil
        }
        guard let seconds, seconds > 0 else {
            sink.error("invalid timeout: found \(describe(node)); write a positive number of seconds (600) or a duration like '90s', '10m' or '1h30m'",
                       at: location(node))
            return nil
        }
        return seconds
    }

    static func duration(_ text: String) -> Double? {
        let scalars = Array(text.trimmingCharacters(in: .whitespaces).unicodeScalars)
        guard !scalars.isEmpty else { return nil }
        if let plain = Double(String(String.UnicodeScalarView(scalars))), plain.isFinite { return plain }
        var total = 0.0
        var index = 0
        while index < scalars.count {
            let start = index
            while index < scalars.count, ("0"..."9").contains(scalars[index]) || scalars[index] == "." { index += 1 }
            guard index > start, let number = Double(String(String.UnicodeScalarView(scalars[start..<index]))) else {
                return nil
            }
            let unitStart = index
            while index < scalars.count, isASCIILetter(scalars[index]) { index += 1 }
            switch String(String.UnicodeScalarView(scalars[unitStart..<index])) {
            case "h": total += number * 3600
            case "m": total += number * 60
            case "s": total += number
            case "ms": total += number / 1000
            default: return nil
            }
        }
        return total
    }
}
