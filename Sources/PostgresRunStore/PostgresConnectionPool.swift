import Foundation
import PostgresNIO
import RunStore

/// The store's connections to one server: idle ones are reused, a new one is opened
/// when every one is busy, and one that failed is dropped.
///
/// A connection runs one call (one statement, or one transaction) at a time, so that
/// a transaction never interleaves with another task's statements. A CLI command uses
/// one or two; the heartbeat of a running run takes one for a moment every few seconds.
actor PostgresConnectionPool {
    let location: PostgresLocation
    let logger: Logger
    private var idle: [PostgresConnection] = []
    private var nextID = 1

    init(location: PostgresLocation, logger: Logger) {
        self.location = location
        self.logger = logger
    }

    deinit {
        for connection in idle { connection.closeSoon() }
    }

    /// An idle connection, or a new one.
    func take() async throws -> PostgresConnection {
        while let connection = idle.popLast() {
            if !connection.isClosed { return connection }
        }
        nextID += 1
        return try await Self.connect(location, id: nextID, logger: logger)
    }

    /// Puts a connection back for the next call; a closed one is dropped.
    func give(back connection: PostgresConnection) {
        if connection.isClosed { return }
        idle.append(connection)
    }

    /// Opens a connection of its own, outside the pool: what an advisory lock held for a
    /// stage's lifetime needs (the server releases it when the connection closes).
    static func connect(_ location: PostgresLocation, id: Int, logger: Logger) async throws -> PostgresConnection {
        let tls: PostgresConnection.Configuration.TLS
        if location.requireTLS {
            tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        } else {
            tls = .disable
        }
        var configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.user,
            password: location.password, database: location.database, tls: tls)
        configuration.options.connectTimeout = .seconds(10)
        return try await PostgresConnection.connect(configuration: configuration, id: id, logger: logger)
    }
}

extension PostgresConnection {
    /// Starts closing the connection without waiting for it: what synchronous code (a
    /// lock's release, a deinit) and a failed call can do. A synchronous function, so that
    /// the driver's future-returning `close()` is the one called, not its async twin.
    ///
    /// The connection keeps itself alive until it is closed: the driver requires (and
    /// asserts, in debug builds) that a connection is closed before it is deallocated.
    func closeSoon() {
        let closing: EventLoopFuture<Void> = close()
        closing.whenComplete { _ in withExtendedLifetime(self) {} }
    }
}
