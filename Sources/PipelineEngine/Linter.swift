import Foundation
import GitState
import PipelineSpec

/// `mlpipe lint`: every pipeline-file problem, without running anything.
public struct Linter: Sendable {
    public var kinds: KindRegistry
    /// The secret providers, given the repository's root (as `PipelineRunner` takes
    /// them); lint only needs their names.
    public var secretProviders: @Sendable (_ repositoryRoot: String) -> SecretProviderRegistry

    public init(kinds: KindRegistry,
                secretProviders: @escaping @Sendable (_ repositoryRoot: String) -> SecretProviderRegistry = {
                    SecretProviderRegistry.builtin(repositoryRoot: $0)
                }) {
        self.kinds = kinds
        self.secretProviders = secretProviders
    }

    /// The result for one file.
    public struct FileResult: Sendable {
        public var file: String
        public var diagnostics: [Diagnostic]
        public var pipeline: Pipeline?
    }

    /// Lints the given files (paths or names under `pipelines/`), or every file in
    /// `pipelines/` when none is given. Works outside a git repository too.
    public func lint(_ arguments: [String], currentDirectory: String = FileManager.default.currentDirectoryPath) throws(EngineError) -> [FileResult] {
        let repo = try? GitRepository.discover(from: currentDirectory)
        let root = repo?.workdir ?? currentDirectory
        var targets: [(String, String)] = []
        if arguments.isEmpty {
            let names = PipelineLocator.available(in: root + "/pipelines")
            if names.isEmpty {
                throw EngineError(.definition, "no pipelines/*.yaml under \(root); name the files to lint")
            }
            for name in names { targets.append(try PipelineLocator.locate(name, repositoryRoot: root, currentDirectory: currentDirectory)) }
        } else {
            for argument in arguments {
                targets.append(try PipelineLocator.locate(argument, repositoryRoot: root, currentDirectory: currentDirectory))
            }
        }
        let providers = secretProviders(root).names
        var results: [FileResult] = []
        for (path, display) in targets {
            let pipeline: Pipeline
            do {
                pipeline = try PipelineLoader.load(path: path, displayPath: display, kinds: kinds.schemas,
                                                   secretProviders: providers)
            } catch {
                results.append(FileResult(file: display, diagnostics: error.diagnostics, pipeline: nil))
                continue
            }
            var diagnostics: [Diagnostic] = []
            do {
                _ = try pipeline.applying(paramsFilesIn: root)
            } catch {
                diagnostics += error.diagnostics  // a missing params file, or a key not declared
            }
            diagnostics += try missingInputs(pipeline, repo: repo)
            results.append(FileResult(file: display, diagnostics: diagnostics, pipeline: pipeline))
        }
        return results
    }

    /// Declared inputs that match no file at HEAD or in the working tree, as `run` would
    /// report them; none outside a repository or before its first commit.
    /// A repository whose git state cannot be read is an environment error (exit 3).
    func missingInputs(_ pipeline: Pipeline, repo: GitRepository?) throws(EngineError) -> [Diagnostic] {
        guard let repo else { return [] }
        let head: HeadState
        do {
            head = try repo.head()
        } catch where error.code == .noCommits {
            return []
        } catch {
            throw EngineError(.environment, error.description, cause: error)
        }
        do {
            _ = try InputPlan.make(pipeline: pipeline, selected: Set(pipeline.stages.map(\.name)), repo: repo,
                                   commit: head.commit, assumeClean: false)
            return []
        } catch where error.category == .definition && !error.diagnostics.isEmpty {
            return error.diagnostics
        }
    }

    /// The pipeline for `graph`: loaded and checked, or the diagnostics as an error.
    public func load(_ argument: String?, currentDirectory: String = FileManager.default.currentDirectoryPath) throws(EngineError) -> Pipeline {
        let root = (try? GitRepository.discover(from: currentDirectory))?.workdir ?? currentDirectory
        let (path, display) = try PipelineLocator.locate(argument, repositoryRoot: root, currentDirectory: currentDirectory)
        do {
            return try PipelineLoader.load(path: path, displayPath: display, kinds: kinds.schemas,
                                           secretProviders: secretProviders(root).names)
        } catch {
            throw EngineError.spec(error)
        }
    }
}
