import ContainerImage
import Foundation
import PipelineEngine
import PipelineSpec

extension ContainerizeKind {
    /// The kind as mlpipe ships it: pushes go through ContainerImage's `RegistryClient`,
    /// and a cached pushed image is trusted only while its registry still has it.
    public static var withRegistryClient: ContainerizeKind { ContainerizeKind(pusher: registryPusher) }

    /// Pushes the layout's image under every tag with `RegistryClient` and returns the
    /// manifest digest the registry reports. Credentials come from the stage's secrets:
    /// a token (bearer), or a username and password (basic); none is anonymous.
    public static let registryPusher: @Sendable (PushRequest) async throws -> String = { request in
        let credentials: RegistryCredentials
        if let token = request.token {
            credentials = .bearer(token: token, secrets: request.secretNames)
        } else if let username = request.username, let password = request.password {
            credentials = .basic(username: username, password: password, secrets: request.secretNames)
        } else {
            credentials = .anonymous
        }
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
