/// Declared names, each sorted once, for did-you-mean hints and lists in messages.
struct DeclaredNames {
    var stages: [String]
    var secrets: [String]
    var env: [String]
}

/// The checks that need every stage at once: `needs`, expression references and cycles.
extension PipelineDecoder {
    static let contexts = ["params", "git", "run", "pipeline", "outputs", "stages", "secrets", "env", "matrix"]
    static let gitFields = ["sha", "short_sha", "branch"]
    static let cycleReportLimit = 20

    /// Checks the drafts against each other and the pipeline's declarations, fills each
    /// stage's `dependencies`, and reports cycles. Returns the stages in file order.
    func check(_ drafts: [StageDraft], in pipeline: Pipeline) -> [Stage] {
        let byName = Dictionary(drafts.map { ($0.stage.name, $0.stage) }, uniquingKeysWith: { first, _ in first })
        // Sorted once here: messages list them, and a file may declare thousands.
        let names = DeclaredNames(stages: (drafts.filter { $0.stage.matrix == nil }.map(\.stage.name)
                                              + matrixGroups.keys).sorted(),
                                  secrets: secretNames.sorted(), env: pipeline.env.keys.sorted())
        var stages: [Stage] = []
        for draft in drafts {
            var stage = draft.stage
            var dependencies = Set<String>()
            let shown = stage.matrix?.group ?? stage.name  // the stage as written
            for site in draft.needSites {
                if site.name == stage.name || site.name == stage.matrix?.group {
                    sink.error("stage '\(shown)' needs itself; remove '\(site.name)' from its `needs`", at: site.location)
                } else if let instances = matrixGroups[site.name] {
                    dependencies.formUnion(instances)  // a matrix stage: all its instances
                } else if brokenGroups.contains(site.name) {
                    continue  // its matrix is reported already
                } else if byName[site.name] == nil {
                    sink.error("unknown stage '\(site.name)' in needs"
                               + sink.hint(for: site.name, in: names.stages, listing: "stages"), at: site.location)
                } else {
                    dependencies.insert(site.name)
                }
            }
            for site in draft.secretSites where !secretNames.contains(site.name) {
                let fix = names.secrets.isEmpty
                    ? "; the pipeline declares no secrets, add '\(site.name)' under the top-level `secrets:`"
                    : sink.hint(for: site.name, in: names.secrets, listing: "declared secrets")
                sink.error("unknown secret '\(site.name)' in `secrets` of stage '\(shown)'\(fix)", at: site.location)
            }
            for template in draft.runTemplates {
                for site in template.referenceSites {
                    dependencies.formUnion(checkReference(site.path, at: site.location, in: stage, field: "run",
                                                          stages: byName, names: names, pipeline: pipeline))
                }
            }
            for template in draft.otherTemplates {
                for site in template.referenceSites {
                    dependencies.formUnion(checkReference(site.path, at: site.location, in: stage, field: nil,
                                                          stages: byName, names: names, pipeline: pipeline))
                }
            }
            stage.needs = stage.needs.flatMap { matrixGroups[$0] ?? [$0] }
                .filter { $0 != stage.name && $0 != stage.matrix?.group && byName[$0] != nil }
            stage.dependencies = dependencies.sorted()
            stages.append(stage)
        }
        reportCycles(stages)
        reportUnlistedSecrets(pipeline.secrets, stages: stages, remote: pipeline.remote)
        reportSharedOutputPaths(stages)
        return stages
    }

    /// Reports each declared secret that no stage lists: it reaches no stage. Most often a
    /// pipeline from before stages listed their secrets, whose commands read the secret
    /// from their environment; without this, they would run without it. A secret that an
    /// expression uses is left out: that reference is already reported, with the fix.
    /// A secret that only a kind needs (`StageKind.secrets(for:)`, known when the stage
    /// starts) is listed by its stage too, so that this check can be made at lint time.
    private func reportUnlistedSecrets(_ secrets: [String: SecretSource], stages: [Stage], remote: RemoteSetting?) {
        var covered = Set(stages.flatMap(\.secrets)).union(remote?.secretNames ?? [])
        for stage in stages {
            for path in stage.references where path.count == 2 && path[0] == "secrets" { covered.insert(path[1]) }
        }
        for (name, source) in secrets.sorted(by: { $0.value.location < $1.value.location }) where !covered.contains(name) {
            sink.error("secret '\(name)' is declared but no stage lists it in `secrets:`; add \(name) to the "
                       + "`secrets:` of each stage that uses it, or remove it", at: source.location)
        }
    }

    /// Reports a reference that names nothing declared. Returns the stages it depends on,
    /// for `stages.S.…` references to another known stage (all instances of a matrix stage).
    private func checkReference(_ path: [String], at location: SourceLocation, in stage: Stage, field: String?,
                                stages: [String: Stage], names declared: DeclaredNames,
                                pipeline: Pipeline) -> [String] {
        let written = Expression.describe(path)
        let head = path[0]
        let member = path.count > 1 ? path[1] : nil
        let shown = stage.matrix?.group ?? stage.name  // the stage as written
        func fail(_ message: @autoclosure () -> String) -> [String] {
            sink.error(message(), at: location)
            return []
        }
        switch head {
        case "params":
            guard let member else { return fail("'params' needs a name: write params.NAME") }
            guard pipeline.params[member] != nil else {
                let fix = pipeline.paramOrder.isEmpty
                    ? "; the pipeline declares no params, add '\(member)' under `params:`"
                    : sink.hint(for: member, in: pipeline.paramOrder, listing: "declared params")
                return fail("unknown param '\(member)' in expression\(fix)")
            }
            return []
        case "git":
            guard path.count == 2, let member, Self.gitFields.contains(member) else {
                return fail("unknown git field in '\(written)'; use git.sha, git.short_sha or git.branch")
            }
            return []
        case "run":
            guard path == ["run", "id"] else { return fail("unknown run field in '\(written)'; use run.id") }
            return []
        case "pipeline":
            guard path == ["pipeline", "name"] else {
                return fail("unknown pipeline field in '\(written)'; use pipeline.name")
            }
            return []
        case "outputs":
            guard path.count == 2, let member else {
                return fail("'\(written)' is not an output; write outputs.NAME")
            }
            guard stage.output(named: member) != nil else {
                let names = stage.outputs.map(\.name)
                let fix = names.isEmpty
                    ? "; stage '\(shown)' declares no outputs, add '\(member)' under `outputs:`"
                    : sink.hint(for: member, in: names, listing: "its outputs")
                return fail("unknown output '\(member)' of stage '\(shown)' in expression\(fix)")
            }
            return []
        case "stages":
            guard let member else {
                return fail("'stages' needs a stage and a field: write stages.NAME.outputs.OUTPUT")
            }
            let instances = matrixGroups[member] ?? [member]
            if brokenGroups.contains(member) { return [] }  // its matrix is reported already
            guard let first = instances.first, let other = stages[first] else {
                return fail("unknown stage '\(member)' in expression"
                            + sink.hint(for: member, in: declared.stages, listing: "stages"))
            }
            if member == stage.name || member == stage.matrix?.group {
                return fail("stage '\(shown)' refers to itself in '\(written)'; use outputs.NAME for its own outputs")
            }
            switch path.count > 2 ? path[2] : "" {
            case "outputs":
                guard path.count == 4 else {
                    return fail("'\(written)' is not an output; write stages.\(member).outputs.NAME")
                }
                guard other.output(named: path[3]) != nil else {
                    let names = other.outputs.map(\.name)
                    let fix = names.isEmpty
                        ? "; stage '\(member)' declares no outputs"
                        : sink.hint(for: path[3], in: names, listing: "its outputs")
                    return fail("unknown output '\(path[3])' of stage '\(member)' in expression\(fix)")
                }
            case "metrics":
                guard path.count >= 4 else {
                    return fail("'\(written)' needs a metric name: write stages.\(member).metrics.NAME")
                }
                guard other.metrics != nil else {
                    return fail("stage '\(member)' has no metrics file for '\(written)'; add `metrics: metrics.json` to it")
                }
            case "results":
                guard path.count == 4 else {
                    return fail("'\(written)' is not a result; write stages.\(member).results.NAME")
                }
                // A stage of an unknown kind is reported as that.
                let results = kinds[other.kind]?.results ?? []
                guard results.contains(path[3]) || kinds[other.kind] == nil else {
                    let fix = results.isEmpty
                        ? "; kind '\(other.kind)' returns no results"
                        : sink.hint(for: path[3], in: results.sorted(), listing: "its results")
                    return fail("unknown result '\(path[3])' of stage '\(member)' in expression\(fix)")
                }
            default:
                return fail("unknown field in '\(written)'; write stages.\(member).outputs.NAME, "
                            + "stages.\(member).metrics.NAME or stages.\(member).results.NAME")
            }
            return instances
        case "matrix":
            // Known keys were replaced by their values when the instance was decoded.
            return fail(matrixReferenceProblem(path, in: stage))
        case "secrets":
            guard path.count == 2, let member else { return fail("'\(written)' is not a secret; write secrets.NAME") }
            guard secretNames.contains(member) else {
                let names = declared.secrets
                let fix = names.isEmpty
                    ? "; the pipeline declares no secrets, add '\(member)' under `secrets:`"
                    : sink.hint(for: member, in: names, listing: "declared secrets")
                return fail("unknown secret '\(member)' in expression\(fix)")
            }
            let undeclared = !stage.secrets.contains(member)
            if field == "run" {
                return fail("secrets cannot be used in `run:`, where they would show in process listings; "
                            + "pass it through the stage's env (`env: { \(member): \"${{ secrets.\(member) }}\" }`) "
                            + "and use $\(member) in the command"
                            + (undeclared ? ", and add \(member) to the stage's `secrets:`" : ""))
            }
            if undeclared {
                return fail("stage '\(shown)' does not list secret '\(member)' in its `secrets:`, so it would not "
                            + "get it; add \(member) to the stage's `secrets:`")
            }
            return []
        case "env":
            guard path.count == 2, let member else { return fail("'\(written)' is not a variable; write env.NAME") }
            guard pipeline.env[member] != nil else {
                let names = declared.env
                let fix = names.isEmpty
                    ? "; the pipeline's `env:` is empty, add '\(member)' to it"
                    : sink.hint(for: member, in: names, listing: "pipeline variables")
                return fail("unknown variable '\(member)' in expression\(fix)")
            }
            return []
        default:
            return fail("unknown context '\(head)' in expression"
                        + sink.hint(for: head, in: Self.contexts, listing: "contexts"))
        }
    }

    /// Reports each cycle once, as the whole path from its stage earliest in the file
    /// (`a -> b -> c -> a`, where each stage depends on the next), at that stage.
    private func reportCycles(_ stages: [Stage]) {
        let index = Dictionary(stages.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        // Edges in file order of the target, so that the walk is deterministic.
        let edges = stages.map { stage in
            stage.dependencies.compactMap { index[$0] }.sorted()
        }
        var color = [UInt8](repeating: 0, count: stages.count)  // 0 new, 1 on the path, 2 done
        var stackPosition = [Int](repeating: -1, count: stages.count)
        var reported = Set<Set<Int>>()
        for start in stages.indices where color[start] == 0 {
            // An explicit stack of (node, next edge to try): no recursion, whatever the graph.
            var stack: [(node: Int, edge: Int)] = [(start, 0)]
            color[start] = 1
            stackPosition[start] = 0
            while let top = stack.last {
                let node = top.node
                guard top.edge < edges[node].count else {
                    color[node] = 2
                    stackPosition[node] = -1
                    stack.removeLast()
                    continue
                }
                stack[stack.count - 1].edge += 1
                let next = edges[node][top.edge]
                switch color[next] {
                case 0:
                    color[next] = 1
                    stackPosition[next] = stack.count
                    stack.append((next, 0))
                case 1:
                    // Past a few cycles, more reports help nobody and cost a walk each.
                    guard reported.count < Self.cycleReportLimit, stackPosition[next] >= 0 else { continue }
                    let from = stackPosition[next]
                    var cycle = stack[from...].map(\.node)
                    guard reported.insert(Set(cycle)).inserted else { continue }
                    if let first = cycle.indices.min(by: { cycle[$0] < cycle[$1] }) {
                        cycle = Array(cycle[first...] + cycle[..<first])
                    }
                    let names = (cycle + [cycle[0]]).map { stages[$0].name }
                    sink.error("dependency cycle: \(names.joined(separator: " -> ")); each stage depends on the next, "
                               + "remove one of these needs or references", at: stages[cycle[0]].location)
                default:
                    continue
                }
            }
        }
    }

    /// Reports an output path that two instances of a matrix stage share: both would
    /// write it, and a checkout of the run would keep only one. Once per output.
    private func reportSharedOutputPaths(_ stages: [Stage]) {
        var owners: [String: [String: String]] = [:]  // group -> path -> first instance
        var reported = Set<SourceLocation>()
        for stage in stages {
            guard let instance = stage.matrix else { continue }
            for output in stage.outputs {
                guard let other = owners[instance.group]?[output.path] else {
                    owners[instance.group, default: [:]][output.path] = stage.name
                    continue
                }
                guard reported.insert(output.location).inserted else { continue }
                let key = instance.keys.first ?? "KEY"
                let (stem, suffix) = Self.splitExtension(output.path)
                sink.error("output '\(output.name)' of stage '\(instance.group)' has the same path '\(output.path)' in "
                           + "'\(other)' and '\(stage.name)'; put a matrix value in the path, e.g. "
                           + "`\(output.name): \(stem)-${{ matrix.\(key) }}\(suffix)`", at: output.location)
            }
        }
    }

    /// `model.pkl` -> (`model`, `.pkl`); a name without a dot -> (name, "").
    static func splitExtension(_ path: String) -> (String, String) {
        guard let dot = path.lastIndex(of: "."), dot != path.startIndex, !path[dot...].contains("/") else { return (path, "") }
        return (String(path[..<dot]), String(path[dot...]))
    }
}
