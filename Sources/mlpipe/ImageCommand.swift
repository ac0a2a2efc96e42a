import ArgumentParser
import ContainerImage
import Foundation

/// `mlpipe image push LAYOUT[:TAG] REGISTRY/REPO[:TAG]`: an OCI image layout (what a
/// `containerize` stage writes) pushed to a registry over the OCI distribution API,
/// without a container daemon, as `skopeo copy oci:… docker://…` does.
///
/// Credentials come from `MLPIPE_REGISTRY_USERNAME` and `MLPIPE_REGISTRY_PASSWORD` (both
/// or neither), never from the command line, where `ps` and shell history would show
/// them; errors name the variables, never their values. A registry error ends the command
/// with 3 (environment), a bad layout or reference with 2 (usage).
struct ImageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Work with OCI images that containerize stages build.",
        subcommands: [Push.self])

    struct Push: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "push",
            abstract: "Push an image of an OCI image layout to a registry.",
            discussion: """
                LAYOUT is an OCI image layout folder, with :TAG to pick one of its images \
                (needed when it holds several). The target is REGISTRY/REPOSITORY[:TAG] \
                (tag latest when none is given) or REGISTRY/REPOSITORY@sha256:… to push by \
                digest only. Blobs the registry already has are not sent. Credentials: \
                $MLPIPE_REGISTRY_USERNAME and $MLPIPE_REGISTRY_PASSWORD (Basic auth, or the \
                token service of a Bearer challenge). 127.0.0.1, localhost and ::1 are spoken \
                to over http, other registries over https unless --insecure.
                """)

        @Argument(help: ArgumentHelp("The OCI image layout folder, and the tag of one of its images.",
                                     valueName: "layout[:tag]"))
        var source: String

        @Argument(help: ArgumentHelp("Where to push: REGISTRY/REPOSITORY[:TAG] or REGISTRY/REPOSITORY@sha256:….",
                                     valueName: "registry/repository[:tag]"))
        var target: String

        @Flag(name: .long, help: "Use plain http:// for a registry that is not on the loopback interface.")
        var insecure = false

        static let usernameVariable = "MLPIPE_REGISTRY_USERNAME"
        static let passwordVariable = "MLPIPE_REGISTRY_PASSWORD"

        func run() async throws {
            let console = Console.shared
            let (layout, tag) = Self.layout(source)
            let credentials = try Self.credentials(ProcessInfo.processInfo.environment)
            do {
                let reference = try RegistryReference(parsing: target)
                // A digest without a tag pushes by digest only, and picks that image of
                // the layout when no tag does.
                let tags = reference.tag.map { [$0] } ?? (reference.digest == nil ? ["latest"] : [])
                let image = tag ?? reference.digest?.description
                let result = try await RegistryClient.with(
                    registry: reference.registry, credentials: credentials,
                    options: ContainerImage.RegistryOptions(insecure: insecure)
                ) { client in
                    try await client.push(layout: URL(fileURLWithPath: layout), image: image,
                                          repository: reference.repository, tags: tags)
                }
                if let wanted = reference.digest, wanted != result.manifestDigest {
                    throw ContainerImage.RegistryError(
                        .digestMismatch, "the image of \(source) is \(result.manifestDigest), not \(wanted) as "
                            + "\(target) says; it was pushed by its own digest")
                }
                let present = result.blobs.filter { $0.transfer == .alreadyPresent }.count
                let named = tags.map { "\(reference.registry)/\(reference.repository):\($0)" }
                console.out("pushed \(named.isEmpty ? result.reference : named.joined(separator: ", "))")
                console.out("  digest     \(result.manifestDigest)")
                console.out("  reference  \(result.reference)")
                console.out("  blobs      \(result.blobs.count) (\(present) already there), "
                            + "\(result.uploadedBytes) bytes sent")
            } catch let error as ContainerImage.RegistryError {
                console.error("mlpipe: error: " + error.description)
                let usage = error.code == .invalidLayout || error.code == .invalidReference
                throw ExitCode(usage ? 2 : 3)
            }
        }

        /// `FOLDER` or `FOLDER:TAG`: a path that exists as written is a folder, else the
        /// part after the last ':' (with no '/' after it) is the tag.
        static func layout(_ text: String) -> (folder: String, image: String?) {
            if FileManager.default.fileExists(atPath: text) { return (text, nil) }
            if let colon = text.lastIndex(of: ":"), !text[colon...].contains("/") {
                return (String(text[..<colon]), String(text[text.index(after: colon)...]))
            }
            return (text, nil)
        }

        /// Basic credentials from the environment, or anonymous when neither variable is set.
        static func credentials(_ environment: [String: String]) throws -> RegistryCredentials {
            let username = environment[usernameVariable].flatMap { $0.isEmpty ? nil : $0 }
            let password = environment[passwordVariable].flatMap { $0.isEmpty ? nil : $0 }
            switch (username, password) {
            case (nil, nil):
                return .anonymous
            case let (username?, password?):
                return .basic(username: username, password: password, secrets: ["$" + passwordVariable])
            case (nil, _?):
                throw ValidationError("$\(passwordVariable) is set but $\(usernameVariable) is not; set both, or neither "
                                      + "for anonymous access")
            case (_?, nil):
                throw ValidationError("$\(usernameVariable) is set but $\(passwordVariable) is not; set both, or neither "
                                      + "for anonymous access")
            }
        }
    }
}
