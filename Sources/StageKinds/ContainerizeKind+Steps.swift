import ContainerImage
import Foundation
import PipelineEngine

extension ContainerizeKind {
    /// Runs `work`, logs what it gave (reused or written, size, type) and how long it took.
    func timed(_ context: StageContext, _ what: String,
               _ work: () async throws -> CachedLayer) async throws -> CachedLayer {
        let start = ContinuousClock.now
        let result: CachedLayer
        do {
            result = try await work()
        } catch let error as ImageError {
            throw StageFailure("containerize: layer \(what): \(error.description)",
                               reason: error.code == .cancelled ? .cancelled : .failed)
        }
        let seconds = (ContinuousClock.now - start) / .seconds(1)
        let layer = result.layer
        let kind = OCIMediaType.isGzipLayer(layer.mediaType) ? "gzip" : "tar"
        let how = result.wasReused ? "reused" : "written"
        context.log.line("layer \(what): \(layer.digest) \(layer.size) bytes \(kind), \(how) in "
                         + String(format: "%.2f s", seconds))
        return result
    }

    /// Runs `work`, turning an `ImageError` into the stage's failure.
    static func imageError(_ work: () throws -> Void) throws {
        do {
            try work()
        } catch let error as ImageError {
            throw StageFailure("containerize: \(error.description)")
        }
    }

    /// The Python that runs pip: the venv's (MLPIPE_VENV) when set, else `python3` on
    /// the PATH.
    static func python(_ context: StageContext) -> String {
        let environment = context.inheritedEnvironment.merging(context.environment) { $1 }
        if let venv = environment["MLPIPE_VENV"], !venv.isEmpty { return venv + "/bin/python" }
        return "python3"
    }

    /// Runs pip through the stage's executor, so its output goes to the stage's log and
    /// a cancelled stage stops it.
    static func runPip(_ python: String, _ arguments: [String], context: StageContext) async throws {
        context.log.line("pip: installing the serving runtime's packages for Python 3.11 (wheels only)")
        let spec = ProcessSpec(stageName: context.stageName, command: .argv([python] + arguments),
                               workingDirectory: context.repositoryRoot, environment: context.environment,
                               inheritedEnvironment: context.inheritedEnvironment, timeout: context.timeout)
        let outcome = try await context.executor.execute(spec, log: context.log)
        switch outcome {
        case .exited(0): return
        case .cancelled: throw StageFailure("containerize: cancelled while pip ran", reason: .cancelled)
        case .timedOut: throw StageFailure("containerize: timed out while pip ran", reason: .timedOut)
        default:
            throw StageFailure("containerize: pip could not install the serving runtime's packages "
                               + "(exit \(outcome.exitCode.map(String.init) ?? "?"); its output is in the log); "
                               + "check the requirement lines, and that each has a wheel for CPython 3.11 on "
                               + "manylinux x86-64")
        }
    }

    /// The path of the first declared output among `names` (or the only output when
    /// `names` are not declared), else `default` in the stage's folder.
    static func outputPath(_ context: StageContext, names: [String], default name: String) -> String {
        for candidate in names {
            if let path = context.outputs[candidate] { return path }
        }
        if names.contains("image"), context.outputs.count == 1, let only = context.outputs.values.first {
            return only
        }
        return context.outputDirectory + "/" + name
    }

    /// Whether a file of the template goes into the app layer: not its tests, caches,
    /// bytecode or Dockerfile, which the image does not run.
    static func belongsInApp(_ name: String) -> Bool {
        !["tests", "__pycache__", ".pytest_cache", ".mypy_cache", ".git", ".DS_Store", "Dockerfile",
          ".dockerignore"].contains(name) && !name.hasSuffix(".pyc")
    }
}
