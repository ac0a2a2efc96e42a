import Foundation
import RunStore

/// Where a PostgreSQL run store lives, parsed from
/// `postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|require]`
/// (`postgres://` too, as libpq accepts).
///
/// The password comes from the URL or, when the URL has none, from `PGPASSWORD`, as
/// with `psql`. It is kept only to connect: ``redacted`` (what every error and message
/// shows) is the URL without it, and `description` is ``redacted`` too, so that
/// interpolating a location never prints a secret.
///
/// `sslmode` is `disable` (the default: a team's database on a private network) or
/// `require` (TLS, the server's certificate checked against the system's roots).
public struct PostgresLocation: Sendable, CustomStringConvertible {
    /// The user to connect as; `PGUSER`, then `postgres`, when the URL names none.
    public let user: String
    /// The password, from the URL or `PGPASSWORD`; never shown.
    let password: String?
    /// The server's host name or address.
    public let host: String
    /// The server's port, 5432 when the URL names none.
    public let port: Int
    /// The database; the user's name when the URL names none, as libpq does.
    public let database: String
    /// Whether to require TLS (`sslmode=require`).
    public let requireTLS: Bool

    /// `postgresql://USER@HOST:PORT/DATABASE`, without the password: how messages name it.
    public var redacted: String { "postgresql://\(user)@\(host):\(port)/\(database)" + (requireTLS ? "?sslmode=require" : "") }

    /// The same as ``redacted``.
    public var description: String { redacted }

    /// Whether `setting` names a PostgreSQL store (`postgresql://…` or `postgres://…`).
    public static func matches(_ setting: String) -> Bool {
        setting.hasPrefix("postgresql://") || setting.hasPrefix("postgres://")
    }

    /// Parses `url`, taking a missing password from `environment["PGPASSWORD"]`.
    ///
    /// Throws ``RunStoreError/Code/cannotOpen`` for a URL that is not one, naming what is
    /// wrong and showing the URL without its password.
    public init(url: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(RunStoreError) {
        let shown = Self.withoutPassword(url)
        func bad(_ reason: String) -> RunStoreError {
            RunStoreError(code: .cannotOpen, operation: "use the run store \(shown)", path: nil, reason: reason,
                          remedy: "write postgresql://USER@HOST:PORT/DATABASE (the password in PGPASSWORD)")
        }
        guard Self.matches(url), let components = URLComponents(string: url) else {
            throw bad("it is not a postgresql:// URL")
        }
        guard let host = components.host, !host.isEmpty else { throw bad("it names no host") }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        var requireTLS = false
        for item in components.queryItems ?? [] {
            switch (item.name, item.value ?? "") {
            case ("sslmode", "disable"), ("sslmode", "allow"), ("sslmode", "prefer"): requireTLS = false
            case ("sslmode", "require"), ("sslmode", "verify-ca"), ("sslmode", "verify-full"): requireTLS = true
            case ("sslmode", let mode): throw bad("sslmode '\(mode)' is not one of disable, require")
            case (let name, _): throw bad("the option '\(name)' is not one mlpipe knows (only sslmode)")
            }
        }
        // URLComponents' user, password and path are already percent-decoded.
        let user = components.user.flatMap { $0.isEmpty ? nil : $0 } ?? environment["PGUSER"] ?? "postgres"
        self.user = user
        self.password = components.password ?? environment["PGPASSWORD"]
        self.host = host
        self.port = components.port ?? 5432
        self.database = database.isEmpty ? user : database
        self.requireTLS = requireTLS
    }

    /// `url` with anything between `://USER:` and `@` removed, for messages about a URL
    /// that may not even parse.
    public static func withoutPassword(_ url: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        guard let at = rest.lastIndex(of: "@") else { return url }
        let credentials = rest[..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return url }
        return String(url[..<scheme.upperBound]) + credentials[..<colon] + String(rest[at...])
    }
}
