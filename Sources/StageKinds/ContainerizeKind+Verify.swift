import Canonical
import ContainerImage
import Foundation
import PipelineEngine
import PipelineSpec

extension ContainerizeKind {
    /// What a check of a cached, pushed image gets: where the image should be, and the
    /// stage's credentials. The values are the secrets'; never log them.
    public struct ImageCheck: Sendable {
        public var registry: String
        public var repository: String
        /// The manifest digest the cached result names.
        public var digest: Digest
        public var insecure: Bool
        public var username: String?
        public var password: String?
        public var token: String?
        /// The names of the secrets the values came from, for messages.
        public var secretNames: [String]
    }

    /// Whether a cached result still holds: a pushed image must still be in its registry
    /// (a HEAD of its manifest by digest, with the stage's credentials), and an image that
    /// was not pushed must still be a complete layout.
    ///
    /// A registry that answers 404 means the image is gone (its storage was wiped, or the
    /// tag's repository deleted): false, so the engine builds and pushes it again. A
    /// registry that cannot be asked (down, refusing the credentials) is an error that
    /// says so, not a quiet miss. A layout that is a declared output is restored from the
    /// object store by the engine, which runs the stage when it cannot; one that is not is
    /// checked where the cached run wrote it.
    public func verifyCached(_ results: [String: Value], settings: ContainerizeSettings,
                             context: StageContext) async throws -> Bool {
        guard case .string(let text)? = results["digest"], let digest = Digest(parsing: text) else { return false }
        if let push = settings.push {
            guard let checker else { return false }
            let check = ImageCheck(
                registry: push.registry, repository: push.repository, digest: digest, insecure: push.insecure,
                username: push.username, password: push.passwordSecret.flatMap { context.secrets[$0] },
                token: push.tokenSecret.flatMap { context.secrets[$0] }, secretNames: secrets(for: settings))
            let present = try await checker(check)
            if !present {
                context.log.line("the cached image \(push.registry)/\(push.repository)@\(digest) is no longer in "
                                 + "the registry (404); building and pushing it again")
            }
            return present
        }
        if Self.layoutIsDeclared(context) { return true }
        guard case .string(let reference)? = results["reference"],
              let at = reference.range(of: "@" + digest.description, options: .backwards) else { return false }
        let layout = String(reference[..<at.lowerBound])
        do {
            let image = try OCILayoutReader(path: layout).image(tag: settings.tags.first)
            guard image.digest == digest else { return false }
            return true
        } catch {
            context.log.line("the cached image's layout \(layout) is gone or incomplete (\(error)); building it again")
            return false
        }
    }

    /// Whether the stage declares the layout as an output (`image` or `layout`, or its
    /// only output), which the engine keeps in the object store.
    static func layoutIsDeclared(_ context: StageContext) -> Bool {
        context.outputs["image"] != nil || context.outputs["layout"] != nil || context.outputs.count == 1
    }

    /// Credentials from a push's or check's values: a token (bearer), a username and
    /// password (basic), else anonymous.
    static func credentials(username: String?, password: String?, token: String?,
                            secretNames: [String]) -> RegistryCredentials {
        if let token { return .bearer(token: token, secrets: secretNames) }
        if let username, let password { return .basic(username: username, password: password, secrets: secretNames) }
        return .anonymous
    }

    /// Asks the registry with `RegistryClient.manifestExists`; every failure other than a
    /// 404 (which is `false`) fails the stage, naming the registry and the image.
    public static let registryChecker: @Sendable (ImageCheck) async throws -> Bool = { check in
        let credentials = credentials(username: check.username, password: check.password, token: check.token,
                                      secretNames: check.secretNames)
        do {
            return try await RegistryClient.with(
                registry: check.registry, credentials: credentials, options: RegistryOptions(insecure: check.insecure)
            ) { client in
                try await client.manifestExists(repository: check.repository, digest: check.digest)
            }
        } catch let error as RegistryError {
            throw StageFailure("containerize: cannot check that the cached image \(check.registry)/"
                               + "\(check.repository)@\(check.digest) is still in its registry: \(error.description)")
        }
    }
}
