import Canonical
import ContainerImage
import Foundation
import PipelineEngine

/// A base image given as a registry reference (`REGISTRY/REPO@sha256:…` or
/// `REGISTRY/REPO:TAG`), pulled into the workspace's layer cache and read from there.
///
/// A tag is resolved once per stage run (HEAD of the manifest), and the digest it named
/// is what the stage uses, records as the result `baseDigest` and logs, so a later move
/// of the tag shows in the run's history. The pull lands under
/// `cache/layers/bases/<manifest hex>` as an OCI layout (streamed, every blob checked
/// against its digest): a base already there is not fetched again. The credentials are
/// the push's when the base is in the same registry, else none.
enum ContainerizeBase {
    struct Pulled {
        var image: OCIImage
        var digest: Digest
    }

    static func pull(_ reference: RegistryReference, settings: ContainerizeSettings,
                     context: StageContext) async throws -> Pulled {
        var credentials = RegistryCredentials.anonymous
        var insecure = false
        if let push = settings.push, push.registry == reference.registry {
            credentials = ContainerizeKind.credentials(
                username: push.username, password: push.passwordSecret.flatMap { context.secrets[$0] },
                token: push.tokenSecret.flatMap { context.secrets[$0] },
                secretNames: [push.passwordSecret, push.tokenSecret].compactMap { $0 })
            insecure = push.insecure
        }
        let start = ContinuousClock.now
        do {
            return try await RegistryClient.with(
                registry: reference.registry, credentials: credentials, options: RegistryOptions(insecure: insecure)
            ) { client in
                let digest = try await client.resolve(reference)
                if reference.digest == nil {
                    context.log.line("base \(reference): tag '\(reference.tag ?? "latest")' resolved to \(digest)")
                }
                let layout = context.workspace + "/cache/layers/bases/" + digest.hex
                let manifest = try await client.pull(repository: reference.repository, digest: digest, into: layout)
                BuildCacheSweeper.touch(layout)
                let image: OCIImage
                do {
                    image = try OCILayoutReader(path: layout).image()
                } catch let error as ImageError {
                    throw StageFailure("containerize: the base \(reference) pulled into \(layout) cannot be read: "
                                       + "\(error.description); remove that folder to pull it again")
                }
                let seconds = (ContinuousClock.now - start) / .seconds(1)
                context.log.line("base \(reference.registry)/\(reference.repository)@\(digest) (manifest \(manifest), "
                                 + "\(image.layers.count) layers) from \(layout), "
                                 + String(format: "%.2f s", seconds))
                return Pulled(image: image, digest: digest)
            }
        } catch let error as RegistryError {
            throw StageFailure("containerize: base image \(reference): \(error.description)")
        }
    }
}
