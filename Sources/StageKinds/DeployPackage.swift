import Canonical
import Foundation
import ModelRegistry
import PipelineEngine
import RunStore

/// The model package a `deploy` stage starts: a folder whose `mlpipe-model.json` has the
/// version's package digest, and the requirement lines it declares.
struct DeployPackage {
    /// The package folder, absolute.
    var folder: String
    /// The model runtime's pins, from `mlpipe-model.json`.
    var requirements: [String]

    /// The fields of `mlpipe-model.json` a deploy reads.
    private struct Manifest: Decodable {
        var schema: String
        var requirements: [String]?
    }

    /// The folder `given` (relative to the repository unless absolute), or else the
    /// output of the version's run that holds its package, as the store this run is
    /// recorded in (`StageContext.runStore`) has it; either must have the version's
    /// digest. `registry` (a `ModelRegistry.location`) is named in the errors.
    static func locate(_ given: String?, for version: ModelVersion, in registry: String = "local",
                       context: StageContext) async throws -> DeployPackage {
        let reference = "\(version.name)@\(version.version)"
        guard !version.packageDigest.isEmpty else {
            // An MLflow version registered by something else than mlpipe has no package tag.
            throw StageFailure("deploy: \(reference) in the \(DeployRegistry.name(of: registry)) has no mlpipe package "
                               + "digest (tag mlpipe.package_digest): it was not registered by mlpipe, so no model "
                               + "package is known for it; register the package with a `kind: register` stage "
                               + "(`backend: mlflow`) and deploy that version")
        }
        if let given {
            let folder = RegisterKind.absolute(given, in: context)
            guard let package = try read(folder), package.digest == version.packageDigest else {
                throw StageFailure("deploy: '\(given)' is not the package of \(reference) (its mlpipe-model.json is "
                                   + "missing or has another digest than \(version.packageDigest)); point `package:` "
                                   + "at the folder that was registered, or leave it out")
            }
            return package.package
        }
        guard let runID = version.provenance.runID else {
            throw StageFailure("deploy: \(reference) was registered outside a run, so its package cannot be found; "
                               + "give its folder as `package:`")
        }
        guard let store = context.runStore else {
            throw StageFailure("deploy: cannot read the outputs of run #\(runID), which registered \(reference): this "
                               + "stage runs without a run history; give the package's folder as `package:`")
        }
        let outputs: [OutputRecord]
        do {
            outputs = try await store.outputs(runID: runID)
        } catch {
            throw StageFailure("deploy: cannot read the outputs of run #\(runID), which registered \(reference): \(error)")
        }
        var absent: [String] = []
        for output in outputs where output.kind == "tree" {
            let folder = output.path.hasPrefix("/") ? output.path : context.workspace + "/" + output.path
            guard FileManager.default.fileExists(atPath: folder) else {
                absent.append(output.path)
                continue
            }
            if let package = try read(folder), package.digest == version.packageDigest { return package.package }
        }
        if !absent.isEmpty {
            // A shared run store names folders of the workspace the run had, which may be
            // another machine's.
            throw StageFailure("deploy: run #\(runID), which registered \(reference), left its outputs in "
                               + absent.sorted().joined(separator: ", ") + ", which this workspace does not have "
                               + "(the run was made in another workspace, or its folder was pruned); run the stage that "
                               + "makes the package here first (a cached run restores it), or give its folder as `package:`")
        }
        throw StageFailure("deploy: the package of \(reference) (\(version.packageDigest)) is not among the outputs of "
                           + "run #\(runID) that registered it; give its folder as `package:`")
    }

    /// The package in `folder` and its manifest's digest, or nil when it has no manifest.
    private static func read(_ folder: String) throws -> (package: DeployPackage, digest: String)? {
        guard let bytes = FileManager.default.contents(atPath: folder + "/mlpipe-model.json") else { return nil }
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: bytes)
        } catch {
            throw StageFailure("deploy: \(folder)/mlpipe-model.json is not a model package manifest (\(error)); "
                               + "make the package again with `kind: serialize`")
        }
        guard manifest.schema == "mlpipe-model/v1" else {
            throw StageFailure("deploy: \(folder)/mlpipe-model.json has schema '\(manifest.schema)', and this mlpipe "
                               + "reads mlpipe-model/v1; make the package again with `kind: serialize`")
        }
        return (DeployPackage(folder: folder, requirements: manifest.requirements ?? []),
                SHA256Hasher.digest(of: bytes).description)
    }
}
