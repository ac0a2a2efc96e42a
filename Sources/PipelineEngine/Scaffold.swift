import Foundation
import GitState

/// `mlpipe init`: the folders and a first pipeline in a git repository.
///
/// Never overwrites: existing files are left alone and reported as such.
public enum Scaffold {
    public struct Result: Sendable {
        public var created: [String]
        public var existing: [String]
        /// False in a repository without a commit, where `mlpipe run` cannot run yet.
        public var hasCommits: Bool = true
    }

    static let examplePipeline = """
        # A first pipeline: `mlpipe run` runs it, `mlpipe lint` checks it.
        version: 1
        name: example
        params:
          greeting: hello
        stages:
          prepare:
            run: echo "${{ params.greeting }}" > ${{ outputs.data }}
            outputs: { data: data.txt }
          count:
            run: wc -c < ${{ stages.prepare.outputs.data }} > ${{ outputs.count }}
            outputs: { count: count.txt }

        """

    public static func run(in directory: String) throws(EngineError) -> Result {
        let repo: GitRepository
        do {
            repo = try GitRepository.discover(from: directory)
        } catch {
            throw EngineError(.environment, error.description, cause: error)
        }
        let root = repo.workdir
        let fm = FileManager.default
        var created: [String] = [], existing: [String] = []
        func makeDir(_ relative: String) throws {
            let path = root + "/" + relative
            if fm.fileExists(atPath: path) { existing.append(relative + "/") } else {
                try fm.createDirectory(atPath: path, withIntermediateDirectories: true)
                created.append(relative + "/")
            }
        }
        func makeFile(_ relative: String, _ content: String) throws {
            let path = root + "/" + relative
            if fm.fileExists(atPath: path) { existing.append(relative) } else {
                try Data(content.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
                created.append(relative)
            }
        }
        do {
            try makeDir("pipelines")
            if PipelineLocator.available(in: root + "/pipelines").isEmpty {
                try makeFile("pipelines/example.yaml", examplePipeline)
            }
            try makeDir("templates")
            try makeFile("templates/README.md", "Templates for the serving app, images and manifests that mlpipe's stage kinds render.\n")
        } catch {
            throw EngineError(.environment, "cannot write in \(root): \(error.localizedDescription); check the folder's permissions")
        }
        let workspace = Workspace(repositoryRoot: root)
        let existed = fm.fileExists(atPath: workspace.root)
        try workspace.prepare()
        if existed { existing.append("workspace/") } else { created.append("workspace/") }
        var result = Result(created: created, existing: existing)
        do {
            _ = try repo.head()
        } catch where error.code == .noCommits {
            result.hasCommits = false
        } catch {
            throw EngineError(.environment, error.description, cause: error)
        }
        return result
    }
}
