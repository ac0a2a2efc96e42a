import Foundation
import TestSupport
import Testing
import PostgresRunStore
import RunStore

/// The two stores that keep the ``RunStore`` contract on disk.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgresql
    var testDescription: String { rawValue }
}

/// A store of `kind` on a new, empty database, and what keeps it alive (a folder, a server).
struct StoreFixture {
    let store: any RunStore & CacheIndex
    let keepAlive: [AnyObject]

    init(_ kind: StoreKind) async throws {
        switch kind {
        case .sqlite:
            let folder = try TemporaryFolder()
            store = try SQLiteRunStore(path: folder.file("workspace/mlpipe.db"))
            keepAlive = [folder]
        case .postgresql:
            let server = try PostgresServer()
            let database = try server.createDatabase()
            store = try await PostgresRunStore.open(try PostgresLocation(url: server.url(database)))
            keepAlive = [server]
        }
    }
}

/// Waits until `condition` holds or `deadline` seconds pass; returns whether it held.
func eventually(within deadline: Double, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let end = Date().addingTimeInterval(deadline)
    while Date() < end {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}
