import ContainerImage
import Foundation
import PipelineEngine
import PipelineSpec

extension ContainerizeKind {
    /// The kind as mlpipe ships it: pushes go through ContainerImage's `RegistryClient`,
    /// and a cached pushed image is trusted only while its registry still has it.
    public static var withRegistryClient: ContainerizeKind {
        ContainerizeKind(pusher: registryPusher, checker: registryChecker)
    }

    /// Pushes the layout's image under every tag with `RegistryClient` and returns the
    /// manifest digest the registry reports. Credentials come from the stage's secrets:
    /// a token (bearer), or a username and password (basic); none is anonymous.
    public static let registryPusher: @Sendable (PushRequest) async throws -> String = { request in
        let credentials = credentials(username: request.username, password: request.password, token: request.token,
                                      secretNames: request.secretNames)
        do {
            let result = try await RegistryClient.with(
                registry: request.registry, credentials: credentials, options: RegistryOptions(insecure: request.insecure)
            ) { client in
                try await client.push(layout: URL(fileURLWithPath: request.layout), image: request.tags.first,
                                      repository: request.repository, tags: request.tags)
            }
            let present = result.blobs.filter { $0.transfer == .alreadyPresent }.count
            request.log.line("pushed \(result.reference) as \(request.tags.joined(separator: ", ")): "
                             + "\(result.blobs.count) blobs, \(present) already there, \(result.uploadedBytes) bytes sent")
            return result.manifestDigest.description
        } catch let error as RegistryError {
            throw StageFailure("containerize: \(error.description)")
        }
    }
}
