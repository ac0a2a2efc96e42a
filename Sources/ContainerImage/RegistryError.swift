import Canonical

/// A failure to talk to an OCI registry, or to read the layout that was to be pushed.
///
/// Shaped like swift-nio's `FileSystemError`: a `code` a caller can switch on, a `message`
/// that says what went wrong, where (registry, repository, request) and how it may be
/// remedied, and the `cause` it wraps. Credentials never reach it: a refused login names
/// the secret it came from, never its value, and request paths are shown without their
/// query (upload sessions carry opaque state there).
public struct RegistryError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Code: Sendable, Hashable {
        /// 401: the registry wants credentials, or refused the ones given.
        case unauthorized
        /// 403: the credentials were accepted but lack access to the repository.
        case denied
        /// 404: no such repository, tag, manifest or upload session.
        case notFound
        /// 5xx or 429 that outlasted every retry.
        case serverError
        /// Another 4xx: the registry rejected the request (bad digest, bad manifest, ...).
        case rejected
        /// The connection could not be opened, or kept failing (reset, timeout).
        case connectionFailed
        /// The registry stored something under another digest than the one pushed.
        case digestMismatch
        /// The registry answered something the distribution API does not allow.
        case protocolViolation
        /// The folder is not an OCI image layout, or does not hold the image asked for.
        case invalidLayout
        /// An image reference that cannot be parsed.
        case invalidReference
    }

    /// What kind of failure this is.
    public let code: Code
    /// One or two sentences: what went wrong, where, and how it may be remedied.
    public let message: String
    /// The HTTP status the registry answered with, when there was an answer.
    public let status: Int?
    /// The lower-level error this wraps (an async-http-client or socket error), if any.
    public let cause: (any Error & Sendable)?

    /// Makes an error; the static functions below are the usual way.
    public init(_ code: Code, _ message: String, status: Int? = nil, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.status = status
        self.cause = cause
    }

    /// The message, followed by the wrapped error when there is one and the message does
    /// not already say it (a layout error's message is the ImageError's own).
    public var description: String {
        guard let cause else { return message }
        let wrapped = String(describing: cause)
        return message.contains(wrapped) ? message : "\(message) (\(wrapped))"
    }
}

extension RegistryError {
    /// A 401 after the credentials (or their absence) were presented.
    static func unauthorized(registry: String, repository: String, credentials: RegistryCredentials) -> RegistryError {
        if credentials.isAnonymous {
            return RegistryError(.unauthorized,
                                 "registry \(registry) requires credentials for repository '\(repository)' (401): "
                                     + "pass a username and password (or a token) from a secret", status: 401)
        }
        return RegistryError(.unauthorized,
                             "registry \(registry) refused the credentials for repository '\(repository)' (401): "
                                 + "check \(credentials.sourceDescription)", status: 401)
    }

    /// A 403: authenticated, but not allowed.
    static func denied(registry: String, repository: String, request: String, credentials: RegistryCredentials,
                       detail: String) -> RegistryError {
        let who: String = credentials.isAnonymous ? "anonymous access" : credentials.sourceDescription
        return RegistryError(.denied,
                             "registry \(registry) denied \(request) in repository '\(repository)' (403)\(detail): "
                                 + who + " lacks push or pull access to it", status: 403)
    }

    /// Any other answer that ends the operation, worded by status class.
    static func unexpected(registry: String, repository: String, request: String, status: Int,
                           detail: String, attempts: Int) -> RegistryError {
        let tries = attempts > 1 ? " after \(attempts) tries" : ""
        switch status {
        case 404:
            return RegistryError(.notFound,
                                 "registry \(registry) answered 404 to \(request)\(detail): check the repository "
                                     + "name '\(repository)' and that the registry serves the OCI distribution API (/v2/)",
                                 status: status)
        case 429, 500...599:
            return RegistryError(.serverError,
                                 "registry \(registry) answered \(status) to \(request)\(tries)\(detail): "
                                     + "the registry is failing or throttling; try again later or check its logs",
                                 status: status)
        case 400...499:
            return RegistryError(.rejected,
                                 "registry \(registry) rejected \(request) in repository '\(repository)' "
                                     + "(\(status))\(detail)", status: status)
        default:
            return RegistryError(.protocolViolation,
                                 "registry \(registry) answered \(status) to \(request)\(detail), which the OCI "
                                     + "distribution API does not allow there", status: status)
        }
    }

    /// The connection could not be made or kept, after `attempts` tries.
    static func connection(registry: String, request: String, reason: String, attempts: Int,
                           cause: any Error & Sendable) -> RegistryError {
        let tries = attempts > 1 ? " after \(attempts) tries" : ""
        return RegistryError(.connectionFailed,
                             "cannot reach registry \(registry) for \(request)\(tries) (\(reason)): is it running, "
                                 + "and are the address and http/https (insecure) setting right?", cause: cause)
    }

    /// The registry's digest for what we pushed is not ours.
    static func digestMismatch(registry: String, repository: String, what: String, ours: Digest,
                               theirs: String) -> RegistryError {
        RegistryError(.digestMismatch,
                      "registry \(registry) stored \(what) in repository '\(repository)' under digest \(theirs), "
                          + "but mlpipe pushed \(ours): the registry or a proxy between changed the bytes; "
                          + "do not use that tag until a push succeeds")
    }

    /// The layout at `path` cannot be pushed.
    static func layout(_ path: String, _ reason: String) -> RegistryError {
        RegistryError(.invalidLayout, "\(path): \(reason)")
    }
}
