import Canonical
import ContainerImage
import Foundation
import PipelineEngine

/// What a `containerize` stage builds from, found and checked before any layer is
/// written: the package and its `mlpipe-model.json`, the serving template, the base
/// image, the requirement lines.
///
/// Each missing or wrong input fails the stage with the path it looked at and what to
/// point the setting at instead.
struct ContainerizeInputs {
    /// The package folder, absolute.
    var package: String
    /// The serving app folder, absolute.
    var template: String
    /// The template as the setting wrote it, for messages and the history.
    var templateName: String
    var model: PackageManifest
    /// The digest of `mlpipe-model.json`: the package's identity.
    var packageDigest: Digest
    var base: OCIImage
    /// The manifest digest of a base pulled from a registry (a tag resolved once); nil
    /// for a base layout on disk.
    var baseDigest: Digest?
    /// The template's requirements.txt lines, then the package's requirements.
    var requirementLines: [String]
    /// The version from the settings or the package's `metadata.version`.
    var explicitVersion: String?
    var source: String?

    /// The fields of `mlpipe-model.json` the image needs.
    struct PackageManifest: Decodable {
        var schema: String
        var name: String
        var requirements: [String]?
        var metadata: [String: String]?

        /// The name as a repository name for `docker load` tags: lower case, other
        /// characters as '-'.
        var repositoryName: String {
            let mapped = name.lowercased().map { $0.isLetter && $0.isASCII || $0.isNumber && $0.isASCII ? $0 : "-" }
            let trimmed = String(mapped).trimmingCharacters(in: CharacterSet(charactersIn: "-"))
            return trimmed.isEmpty ? "model" : trimmed
        }
    }

    init(context: StageContext, settings: ContainerizeSettings) async throws {
        let root = context.repositoryRoot
        package = Self.absolute(settings.package, root: root)
        let manifestPath = package + "/mlpipe-model.json"
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: package, isDirectory: &isFolder), isFolder.boolValue else {
            throw StageFailure("containerize: the package '\(settings.package)' does not exist (looked at \(package)); "
                               + "point `package:` at the folder a `serialize` stage writes, for example "
                               + "${{ stages.package.outputs.package }}")
        }
        let manifestBytes: Data
        do {
            manifestBytes = try Data(contentsOf: URL(fileURLWithPath: manifestPath))
        } catch {
            throw StageFailure("containerize: '\(settings.package)' is not a model package: it has no "
                               + "mlpipe-model.json (looked at \(manifestPath)); make it with `kind: serialize`")
        }
        do {
            model = try JSONDecoder().decode(PackageManifest.self, from: manifestBytes)
        } catch {
            throw StageFailure("containerize: \(manifestPath) is not a model package manifest (\(error)); "
                               + "make the package again with `kind: serialize`")
        }
        guard model.schema == "mlpipe-model/v1" else {
            throw StageFailure("containerize: \(manifestPath) has schema '\(model.schema)', and this mlpipe reads "
                               + "mlpipe-model/v1; make the package again with this mlpipe's `kind: serialize`")
        }
        packageDigest = SHA256Hasher.digest(of: manifestBytes)

        templateName = settings.template
        template = Self.absolute(settings.template, root: root)
        guard FileManager.default.fileExists(atPath: template, isDirectory: &isFolder), isFolder.boolValue else {
            throw StageFailure("containerize: the serving template '\(settings.template)' does not exist (looked at "
                               + "\(template)); leave `template:` out for \(ContainerizeSettings.defaultTemplate), "
                               + "or name a folder with the app and its requirements.txt")
        }
        // A template without requirements.txt needs no packages; one that cannot be read
        // would give an image that fails when it starts, so it fails the stage.
        let templateRequirements = template + "/requirements.txt"
        var templateLines: [String] = []
        if FileManager.default.fileExists(atPath: templateRequirements) {
            do {
                templateLines = try String(contentsOfFile: templateRequirements, encoding: .utf8)
                    .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            } catch {
                throw StageFailure("containerize: cannot read \(templateRequirements) (\(error.localizedDescription)); "
                                   + "check its permissions and that it is UTF-8 text")
            }
        }
        requirementLines = templateLines + (model.requirements ?? [])

        if let setting = settings.base, let reference = try Self.registryReference(setting, context: context) {
            let pulled = try await ContainerizeBase.pull(reference, settings: settings, context: context)
            base = pulled.image
            baseDigest = pulled.digest
        } else {
            base = try Self.base(settings.base, context: context)
        }
        explicitVersion = settings.version ?? model.metadata?["version"]
        let environment = context.inheritedEnvironment.merging(context.environment) { $1 }
        source = settings.source ?? Self.ciSource(environment)
    }

    /// The manifest's annotations.
    func annotations(commit: String, created: String) -> [String: String] {
        var annotations = [
            OCIAnnotation.created: created,
            OCIAnnotation.title: model.name,
            OCIAnnotation.version: explicitVersion ?? packageDigest.description,
        ]
        if !commit.isEmpty { annotations[OCIAnnotation.revision] = commit }
        if let source { annotations[OCIAnnotation.source] = source }
        return annotations
    }

    /// The base image from `setting` (`FOLDER`, `FOLDER:TAG`), or the workspace's.
    static func base(_ setting: String?, context: StageContext) throws -> OCIImage {
        let folder: String
        var tag: String?
        if let setting {
            let whole = absolute(setting, root: context.repositoryRoot)
            if FileManager.default.fileExists(atPath: whole) {
                folder = whole
            } else if let colon = setting.lastIndex(of: ":"), !setting[colon...].contains("/") {
                folder = absolute(String(setting[..<colon]), root: context.repositoryRoot)
                tag = String(setting[setting.index(after: colon)...])
            } else {
                folder = whole
            }
        } else {
            folder = context.workspace + "/base/oci"
        }
        do {
            return try OCILayoutReader(path: folder).image(tag: tag)
        } catch let error as ImageError {
            let hint = setting == nil ? " (the default base; `make base-image` builds it)" : ""
            throw StageFailure("containerize: base image\(hint): \(error.description)")
        }
    }

    /// `setting` as a registry reference (`REGISTRY/REPO[:TAG][@sha256:…]`, the registry
    /// written out: a host with a '.' or ':', or localhost), or nil when it names a layout
    /// on disk (`FOLDER` or `FOLDER:TAG`, which is looked for first).
    static func registryReference(_ setting: String, context: StageContext) throws -> RegistryReference? {
        let root = context.repositoryRoot
        if FileManager.default.fileExists(atPath: absolute(setting, root: root)) { return nil }
        if let colon = setting.lastIndex(of: ":"), !setting[colon...].contains("/"), !setting.contains("@"),
           FileManager.default.fileExists(atPath: absolute(String(setting[..<colon]), root: root)) {
            return nil
        }
        guard let slash = setting.firstIndex(of: "/"), !setting.hasPrefix("/"), !setting.hasPrefix(".") else { return nil }
        let host = setting[..<slash]
        guard host.contains(".") || host.contains(":") || host == "localhost" else { return nil }
        do {
            return try RegistryReference(parsing: setting)
        } catch let error as RegistryError {
            throw StageFailure("containerize: the base '\(setting)' is neither a layout folder (none at "
                               + "\(absolute(setting, root: root))) nor a registry reference: \(error.message)")
        }
    }

    /// The repository URL CI gives (GitHub Actions, GitLab CI), if any.
    static func ciSource(_ environment: [String: String]) -> String? {
        if let server = environment["GITHUB_SERVER_URL"], let repository = environment["GITHUB_REPOSITORY"] {
            return server + "/" + repository
        }
        return environment["CI_PROJECT_URL"]
    }

    static func absolute(_ path: String, root: String) -> String {
        path.hasPrefix("/") ? path : root + "/" + path
    }
}
