import Canonical
import Foundation
import GitState
import PipelineSpec
import RunStore

/// A run with its stages and outputs, as `runs show` reports it.
public struct RunDetails: Sendable {
    public var run: RunRecord
    public var stages: [StageRecord]
    public var outputs: [OutputRecord]

    public func outputs(of stage: String) -> [OutputRecord] { outputs.filter { $0.stage == stage } }
}

/// One field that differs between two runs.
public struct RunDifference: Sendable, Hashable {
    /// `commit`, `branch`, `dirty`, `status`, `param`, `input`, `output`, `metric`, `stage`.
    public var category: String
    /// What differs: the param name, `stage:path`, `stage.output`, `stage.metric`.
    public var name: String
    public var a: String?
    public var b: String?
    /// For numeric metrics: b - a.
    public var delta: Double?
    /// The values as their JSON types (a param's 5, a metric's 0.93, dirty's true),
    /// where they have one; nil where the value is text (a commit, a digest).
    public var typedA: Value? = nil
    public var typedB: Value? = nil
}

/// Two runs compared field by field.
public struct RunComparison: Sendable {
    public var a: RunRecord
    public var b: RunRecord
    public var differences: [RunDifference]
}

/// Read-only queries over recorded runs: `runs`, `runs show`, `runs diff`, `logs`.
public struct RunHistory: Sendable {
    let store: any RunStore

    init(store: any RunStore) {
        self.store = store
    }

    /// Opens the history of the repository around `options.currentDirectory`.
    ///
    /// Reading history needs the workspace, not git's objects: the repository's root is
    /// found without opening it, so `runs` costs little more than its query.
    public static func open(_ options: RunOptions) async throws(EngineError) -> RunHistory {
        RunHistory(store: try await Backends.open(workspace: Workspace.located(options)).runStore)
    }

    /// A run by number (`42` or `#42`), by name (`run --name`: the newest run of that name), or `latest`.
    public func resolve(_ reference: String) async throws(EngineError) -> RunRecord {
        let id: Int64
        do {
            if reference == "latest" {
                guard let latest = try await store.latestRunID(pipeline: nil) else {
                    throw EngineError(.definition, "no runs recorded yet; start one with `mlpipe run`")
                }
                id = latest
            } else {
                let digits = reference.hasPrefix("#") ? String(reference.dropFirst()) : reference
                if let parsed = Int64(digits) {
                    id = parsed
                } else {
                    return try await named(reference)
                }
            }
            guard let run = try await store.run(id: id) else {
                throw EngineError(.definition, "no run #\(id); `mlpipe runs` lists the recorded runs")
            }
            return run
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError(.environment, "\(error)", cause: error as? (any Error & Sendable))
        }
    }

    /// The newest run named `name` (`run --name`), as a tag names a commit. Names are not
    /// unique: a name given again later means the later run.
    private func named(_ name: String) async throws -> RunRecord {
        let candidates = try await store.runs(RunFilter(limit: 0, name: name))
        if let run = candidates.first(where: { $0.name == name }) { return run }
        let near = candidates.compactMap(\.name)
        let hint = near.isEmpty ? "" : " (runs named like it: \(Array(Set(near)).sorted().prefix(5).joined(separator: ", ")))"
        throw EngineError(.definition, "'\(name)' is not a run number and no run is named '\(name)'\(hint); "
                          + "give a run number such as 42, a name given with `run --name`, or `latest`")
    }

    public func list(_ filter: RunFilter) async throws(EngineError) -> [RunRecord] {
        do { return try await store.runs(filter) } catch { throw EngineError(.environment, "\(error)", cause: error) }
    }

    /// What `list` found nothing for, in words: "no runs recorded yet", or which pipeline
    /// or status had none, with the pipelines that do have runs.
    public func emptyListMessage(_ filter: RunFilter) async throws(EngineError) -> String {
        let known: [String]
        do { known = try await store.pipelineNames() } catch { throw EngineError(.environment, "\(error)", cause: error) }
        guard !known.isEmpty else { return "no runs recorded yet; start one with `mlpipe run`" }
        let status = filter.status.map { " with status \($0.rawValue)" } ?? ""
        guard let pipeline = filter.pipeline else { return "no runs\(status)" }
        if known.contains(pipeline) { return "no runs of pipeline '\(pipeline)'\(status)" }
        let shown = known.prefix(10).joined(separator: ", ") + (known.count > 10 ? ", …" : "")
        let suggestion = Suggestions.closest(to: pipeline, in: known).map { "did you mean '\($0)'? " } ?? ""
        return "no runs of pipeline '\(pipeline)'; \(suggestion)(known: \(shown))"
    }

    public func details(_ reference: String) async throws(EngineError) -> RunDetails {
        let run = try await resolve(reference)
        do {
            return RunDetails(run: run, stages: try await store.stages(runID: run.id!),
                              outputs: try await store.outputs(runID: run.id!))
        } catch {
            throw EngineError(.environment, "\(error)", cause: error)
        }
    }

    /// What differs between runs A and B: commit, params, each stage's inputs, outputs
    /// and metrics.
    public func compare(_ a: String, _ b: String) async throws(EngineError) -> RunComparison {
        let left = try await details(a), right = try await details(b)
        var diffs: [RunDifference] = []
        func add(_ category: String, _ name: String, _ x: String?, _ y: String?, delta: Double? = nil,
                 typed: (Value?, Value?)? = nil) {
            if x != y {
                diffs.append(RunDifference(category: category, name: name, a: x, b: y, delta: delta,
                                           typedA: typed?.0, typedB: typed?.1))
            }
        }
        func json(_ text: String?) -> Value? { text.flatMap { Value.fromJSON(Data($0.utf8)) } }
        add("commit", "commit", left.run.commit, right.run.commit)
        add("branch", "branch", left.run.branch, right.run.branch)
        add("dirty", "dirty", String(left.run.dirty), String(right.run.dirty),
            typed: (.bool(left.run.dirty), .bool(right.run.dirty)))
        add("pipeline", "pipeline file", left.run.pipelineDigest, right.run.pipelineDigest)
        let pa = objectFields(left.run.paramsJSON), pb = objectFields(right.run.paramsJSON)
        for key in Set(pa.keys).union(pb.keys).sorted() {
            add("param", key, pa[key], pb[key], typed: (json(pa[key]), json(pb[key])))
        }

        let names = (left.stages.map(\.name) + right.stages.map(\.name)).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        for name in names {
            let sa = left.stages.first { $0.name == name }, sb = right.stages.first { $0.name == name }
            add("stage", name, sa?.status.rawValue, sb?.status.rawValue)
            let ka = sa?.keyComponentsJSON.flatMap(KeyComponents.decode), kb = sb?.keyComponentsJSON.flatMap(KeyComponents.decode)
            let ia = ka?.inputs ?? [:], ib = kb?.inputs ?? [:]
            for path in Set(ia.keys).union(ib.keys).sorted() where ka != nil && kb != nil {
                add("input", "\(name):\(path.isEmpty ? "(whole tree)" : path)", ia[path], ib[path])
            }
            let oa = Dictionary(left.outputs(of: name).map { ($0.name, $0.digest) }, uniquingKeysWith: { x, _ in x })
            let ob = Dictionary(right.outputs(of: name).map { ($0.name, $0.digest) }, uniquingKeysWith: { x, _ in x })
            for output in Set(oa.keys).union(ob.keys).sorted() { add("output", "\(name).\(output)", oa[output], ob[output]) }
            let ma = flatten(sa?.metricsJSON), mb = flatten(sb?.metricsJSON)
            for metric in Set(ma.keys).union(mb.keys).sorted() {
                let x = ma[metric], y = mb[metric]
                var delta: Double?
                if case .some(let vx) = x.flatMap(numeric), case .some(let vy) = y.flatMap(numeric) { delta = vy - vx }
                add("metric", "\(name).\(metric)", x.map(\.interpolated), y.map(\.interpolated), delta: delta, typed: (x, y))
            }
        }
        return RunComparison(a: left.run, b: right.run, differences: diffs)
    }

    /// The stage records of run `id`.
    func stages(ofRun id: Int64) async throws(EngineError) -> [StageRecord] {
        do { return try await store.stages(runID: id) } catch { throw EngineError(.environment, "\(error)", cause: error) }
    }

    /// The log files of a run's stages (one stage, or all that have a log), in order.
    /// A cached stage's log is the one of the run that made its result.
    /// `madeBy` is the run whose log it is, when that is another run (a cached stage).
    public func logs(_ reference: String, stage: String?) async throws(EngineError) -> [(stage: String, path: String, madeBy: Int64?)] {
        let details = try await details(reference)
        if let stage, !details.stages.contains(where: { $0.name == stage }),
           details.stages.contains(where: { $0.name.hasPrefix(stage + "[") }) {
            // A stage with `matrix:`, named as written: the logs of all its instances.
            var logs: [(stage: String, path: String, madeBy: Int64?)] = []
            for record in details.stages where record.name.hasPrefix(stage + "[") {
                do {
                    logs += try await self.logs(reference, stage: record.name)
                } catch where error.category == .definition {
                    continue  // an instance with no log of its own (skipped, never ran)
                }
            }
            return logs
        }
        if let stage {
            guard let record = details.stages.first(where: { $0.name == stage }) else {
                let names = details.stages.map(\.name)
                throw EngineError(.definition, "run #\(details.run.id!) has no stage '\(stage)'"
                    + (Suggestions.closest(to: stage, in: names).map { "; did you mean '\($0)'?" } ?? " (stages: \(names.joined(separator: ", ")))"))
            }
            if let path = record.logPath { return [(stage, path, nil)] }
            // A cached stage ran in the run it came from: that run's log is its log.
            if let origin = record.cachedFrom, origin != details.run.id,
               let made = try await stages(ofRun: origin).first(where: { $0.name == stage }), let path = made.logPath {
                return [(stage, path, origin)]
            }
            throw EngineError(.definition, "stage '\(stage)' of run #\(details.run.id!) has no log: it was \(record.status.rawValue)\(record.cachedFrom.map { " (see run #\($0))" } ?? "")")
        }
        return details.stages.compactMap { record in record.logPath.map { (record.name, $0, nil) } }
    }

    func objectFields(_ json: String) -> [String: String] {
        guard let value = Value.fromJSON(Data(json.utf8)), case .object(let fields) = value else { return [:] }
        return fields.mapValues { $0.canonicalJSON() }
    }

    /// Metrics flattened to dotted keys.
    func flatten(_ json: String?) -> [String: Value] {
        guard let json, let value = Value.fromJSON(Data(json.utf8)) else { return [:] }
        var out: [String: Value] = [:]
        func walk(_ prefix: String, _ v: Value) {
            if case .object(let fields) = v {
                for (k, sub) in fields { walk(prefix.isEmpty ? k : prefix + "." + k, sub) }
            } else {
                out[prefix] = v
            }
        }
        walk("", value)
        return out
    }

    func numeric(_ value: Value) -> Double? {
        switch value {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }
}
