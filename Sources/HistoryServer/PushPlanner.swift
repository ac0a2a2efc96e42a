import Foundation
import GitState
import PipelineEngine
import PipelineSpec
import RunStore

/// Which pipelines a push touched: the first step of a queued push.
///
/// A pipeline (a file under `pipelines/` at the pushed commit) is touched when, between
/// the push's `before` and `after` commits, its file, one of its `params_files:`, or the
/// inputs of one of its stages changed. Inputs are compared as the engine keys them:
/// through `GitRepository.fingerprint`, the call the engine's input plan makes for each
/// stage (the same patterns, globs and folders; a stage without `inputs:` is keyed by the
/// whole tree, so any change touches it). With no usable `before` (a new branch, or a
/// commit this repository does not have) every pipeline runs.
///
/// The commit is fetched first when the served repository lacks it (`git fetch origin
/// COMMIT`): a push names commits of the remote, and the runs need them here.
struct PushPlanner: Sendable {
    /// The served repository's working tree.
    let repositoryRoot: String
    let kinds: [String: KindSchema]
    let secretProviders: Set<String>
    let git: GitCommand

    /// What a push asks for.
    struct Plan: Sendable {
        /// Names under `pipelines/`, sorted.
        var pipelines: [String]
        /// For a person: which pipelines, or why none.
        var note: String
    }

    func plan(_ push: TriggerRecord) async throws(EngineError) -> Plan {
        let repo = try await repository(with: push.commit)
        let files = try pipelineFiles(at: push.commit, in: repo)
        guard !files.isEmpty else {
            return Plan(pipelines: [], note: "commit \(push.commit.prefix(7)) has no pipelines/*.yaml; nothing runs")
        }
        // A before that this repository cannot resolve (a force push over commits never
        // fetched) is as good as none.
        guard let before = push.before, (try? repo.resolveCommit(before)) != nil else {
            return Plan(pipelines: files.map(\.name),
                        note: "the previous commit of \(push.branch) is not known here: every pipeline runs")
        }
        var touched: [String] = []
        for file in files {
            if try await touches(file, before: before, after: push.commit, in: repo) { touched.append(file.name) }
        }
        if touched.isEmpty {
            return Plan(pipelines: [], note: "the push touched no pipeline's inputs; nothing runs")
        }
        return Plan(pipelines: touched, note: "the push touched \(touched.joined(separator: ", "))")
    }

    /// The served repository, once it has `commit`: fetched from `origin` when missing.
    func repository(with commit: String) async throws(EngineError) -> GitRepository {
        var repo = try open()
        if (try? repo.resolveCommit(commit)) != nil { return repo }
        let fetch = try await git.run(["fetch", "--quiet", "--no-tags", "origin", commit], in: repositoryRoot)
        // A fresh handle: libgit2 may not look for the pack the fetch just wrote.
        repo = try open()
        if (try? repo.resolveCommit(commit)) != nil { return repo }
        let why = fetch.succeeded ? "the fetch succeeded but did not bring it" : "it failed: \(fetch.summary)"
        throw EngineError(.environment,
            "commit \(commit) not found: the served repository \(repositoryRoot) does not have it, and `git fetch origin \(commit)` "
            + "could not get it (\(why)); check that the repository's `origin` is the one the webhook comes from and that "
            + "this machine may fetch from it")
    }

    func open() throws(EngineError) -> GitRepository {
        do {
            return try GitRepository.discover(from: repositoryRoot)
        } catch {
            throw EngineError(.environment, error.description, cause: error)
        }
    }

    /// A pipeline file at a commit: its name (what `mlpipe run NAME` takes) and path.
    struct PipelineFile: Sendable {
        var name: String
        var path: String
    }

    /// `pipelines/*.yaml` and `*.yml` at `commit`, one per name (`.yaml` first, as
    /// `PipelineLocator` chooses), sorted by name.
    func pipelineFiles(at commit: String, in repo: GitRepository) throws(EngineError) -> [PipelineFile] {
        let paths = try fingerprint(["pipelines/*.yaml", "pipelines/*.yml"], at: commit, in: repo).map(\.path)
        var byName: [String: String] = [:]
        for path in paths.sorted(by: { $0.hasSuffix(".yaml") && !$1.hasSuffix(".yaml") }) {
            let file = String(path.dropFirst("pipelines/".count))
            guard let dot = file.lastIndex(of: ".") else { continue }
            let name = String(file[..<dot])
            if byName[name] == nil { byName[name] = path }
        }
        return byName.sorted { $0.key < $1.key }.map { PipelineFile(name: $0.key, path: $0.value) }
    }

    /// Whether the push from `before` to `after` changed what `file`'s runs read.
    func touches(_ file: PipelineFile, before: String, after: String, in repo: GitRepository) async throws(EngineError) -> Bool {
        if try changed([file.path], before: before, after: after, in: repo) { return true }
        guard let source = try await git.file(file.path, at: after, in: repositoryRoot) else { return true }
        let pipeline: Pipeline
        do {
            pipeline = try PipelineLoader.parse(source: source, file: file.path, kinds: kinds, secretProviders: secretProviders)
        } catch {
            // Unchanged and broken: it was as broken before, and a run would only say so again.
            return false
        }
        let paramsFiles = pipeline.paramsFiles.map(\.path)
        if !paramsFiles.isEmpty, try changed(paramsFiles, before: before, after: after, in: repo) { return true }
        var seen = Set<[String]>()
        for stage in pipeline.stages where seen.insert(stage.inputs).inserted {
            if try changed(stage.inputs, before: before, after: after, in: repo) { return true }
        }
        return false
    }

    /// Whether `patterns` name other content at `after` than at `before`. No patterns is
    /// the whole tree, as for the engine's key of a stage without `inputs:`.
    func changed(_ patterns: [String], before: String, after: String, in repo: GitRepository) throws(EngineError) -> Bool {
        try fingerprint(patterns, at: before, in: repo) != fingerprint(patterns, at: after, in: repo)
    }

    /// Path and object id of every path `patterns` match at `commit`.
    func fingerprint(_ patterns: [String], at commit: String, in repo: GitRepository) throws(EngineError) -> Set<Match> {
        do {
            let found = try repo.fingerprint(patterns: patterns, commit: commit, status: WorkingTreeStatus(changes: [:]))
            return Set(found.entries.map { Match(path: $0.path, objectID: $0.objectID) })
        } catch {
            throw EngineError(.environment, "cannot read \(patterns.joined(separator: ", ")) at commit \(commit.prefix(7)): "
                + error.description, cause: error)
        }
    }

    /// One matched path at a commit.
    struct Match: Hashable, Sendable {
        var path: String
        var objectID: String
    }
}
