import Foundation
import PipelineSpec

/// Finds the pipeline file a command means.
///
/// PIPELINE is a path, or a name under `pipelines/` (`iris` means `pipelines/iris.yaml`
/// or `.yml`). Left out, it is the only file in `pipelines/`; with several, the error
/// lists them.
public enum PipelineLocator {
    /// The file's absolute path and the path to show in diagnostics.
    public static func locate(_ argument: String?, repositoryRoot: String,
                              currentDirectory: String = FileManager.default.currentDirectoryPath) throws(EngineError) -> (path: String, display: String) {
        let fm = FileManager.default
        let pipelinesDir = repositoryRoot + "/pipelines"
        if let argument, !argument.isEmpty {
            let direct = argument.hasPrefix("/") ? argument : currentDirectory + "/" + argument
            var isDir: ObjCBool = false
            if fm.fileExists(atPath: direct, isDirectory: &isDir), !isDir.boolValue {
                return (normalize(direct), display(normalize(direct), repositoryRoot: repositoryRoot, argument: argument))
            }
            for ext in ["yaml", "yml"] {
                let candidate = "\(pipelinesDir)/\(argument).\(ext)"
                if fm.fileExists(atPath: candidate) {
                    return (candidate, "pipelines/\(argument).\(ext)")
                }
            }
            let known = available(in: pipelinesDir)
            var message = "no pipeline '\(argument)': not a file, and not a name under pipelines/"
            if let guess = Suggestions.closest(to: argument, in: known) { message += "; did you mean '\(guess)'?" }
            else if !known.isEmpty { message += " (there: \(known.joined(separator: ", ")))" }
            throw EngineError(.definition, message)
        }
        let known = available(in: pipelinesDir)
        switch known.count {
        case 1:
            let file = (try? fm.contentsOfDirectory(atPath: pipelinesDir))?
                .first { $0.hasPrefix(known[0] + ".") && ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) } ?? known[0] + ".yaml"
            return ("\(pipelinesDir)/\(file)", "pipelines/\(file)")
        case 0:
            throw EngineError(.definition, "no pipeline given and no pipelines/*.yaml in \(repositoryRoot); run `mlpipe init` or name a pipeline file")
        default:
            throw EngineError(.definition, "several pipelines in pipelines/ (\(known.joined(separator: ", "))); name the one to use")
        }
    }

    /// Pipeline names under `pipelines/`, sorted.
    public static func available(in directory: String) -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return files.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
            .map { String($0[..<$0.lastIndex(of: ".")!]) }
            .sorted()
    }

    static func normalize(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }

    static func display(_ path: String, repositoryRoot: String, argument: String) -> String {
        if path.hasPrefix(repositoryRoot + "/") { return String(path.dropFirst(repositoryRoot.count + 1)) }
        return argument
    }
}
