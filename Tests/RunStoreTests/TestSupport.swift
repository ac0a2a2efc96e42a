import Foundation
@testable import RunStore
import TestSupport

/// A store on a new file in a new temporary folder; keep the folder alive as
/// long as the store.
func makeStore() throws -> (TemporaryFolder, SQLiteRunStore) {
    let folder = try TemporaryFolder()
    return (folder, try SQLiteRunStore(path: folder.file("workspace/mlpipe.db")))
}
