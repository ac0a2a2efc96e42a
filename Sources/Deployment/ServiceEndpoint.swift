import Foundation

/// Where a deployed model answers: `http://127.0.0.1:8081`, or a cluster DNS name such as
/// `http://iris.ml.svc.cluster.local:8080`. The value a deploy stage hands to a smoke test.
public struct ServiceEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// `http` or `https`.
    public let scheme: String
    /// A host name or an IPv4 address (IPv6 addresses are kept without brackets).
    public let host: String
    /// The TCP port.
    public let port: Int

    /// An endpoint from its parts; the scheme is lower-cased.
    public init(scheme: String, host: String, port: Int) {
        self.scheme = scheme.lowercased()
        self.host = host
        self.port = port
    }

    /// Parses `SCHEME://HOST[:PORT][/]`; the port defaults to 80 for http and 443 for https.
    /// Throws `EndpointError` naming the text and what is wrong with it.
    public init(parsing text: String) throws {
        guard let separator = text.range(of: "://") else {
            throw EndpointError(text: text, problem: "it has no scheme; write it as http://HOST:PORT")
        }
        let scheme = text[..<separator.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else {
            throw EndpointError(text: text, problem: "the scheme '\(scheme)' is not http or https")
        }
        var rest = Substring(text[separator.upperBound...])
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.isEmpty, !rest.contains("/"), !rest.contains("@") else {
            throw EndpointError(text: text, problem: "an endpoint is SCHEME://HOST[:PORT], without a path or user")
        }
        var host = rest
        var port = scheme == "https" ? 443 : 80
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else {
                throw EndpointError(text: text, problem: "the IPv6 address has no closing ']'")
            }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let tail = rest[rest.index(after: close)...]
            if !tail.isEmpty {
                guard tail.hasPrefix(":") else {
                    throw EndpointError(text: text, problem: "expected ':PORT' after the IPv6 address")
                }
                port = try Self.port(tail.dropFirst(), in: text)
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            port = try Self.port(rest[rest.index(after: colon)...], in: text)
        }
        guard !host.isEmpty else { throw EndpointError(text: text, problem: "the host is empty") }
        self.init(scheme: scheme, host: String(host), port: port)
    }

    /// The endpoint as a URL without a trailing slash.
    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "\(scheme)://\(shownHost):\(port)"
    }

    /// The URL of `path` (which starts with `/`) on this endpoint.
    public func url(_ path: String) -> String { description + path }

    private static func port(_ digits: Substring, in text: String) throws -> Int {
        guard let port = Int(digits), (1...65535).contains(port), digits.allSatisfy(\.isASCII) else {
            throw EndpointError(text: text, problem: "the port '\(digits)' is not a number from 1 to 65535")
        }
        return port
    }
}

/// A text that is not an endpoint URL.
public struct EndpointError: Error, Sendable, CustomStringConvertible {
    /// The text as given.
    public let text: String
    /// What is wrong with it, and how to write it.
    public let problem: String

    public var description: String { "'\(text)' is not an endpoint URL: \(problem)" }
}
