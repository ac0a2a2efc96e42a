import ArgumentParser
import Foundation

/// `--store URL`: the run store of one command, for the commands that read or write the
/// history (`run`, `rerun`, `runs …`, `logs`, `status`) and the registry (`models …`).
///
/// The engine reads its store from `MLPIPE_STORE` (see `Backends`), so the option sets
/// that variable for this process; the URL (and a password in it) is never printed.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The run store: postgresql://USER@HOST:PORT/DB (password from $PGPASSWORD), or sqlite:PATH "
            + "(default: $MLPIPE_STORE, or <workspace>/mlpipe.db).", valueName: "url"))
    var store: String?

    /// Hands `--store` to the engine. Done here, right after parsing, so that every
    /// command that takes the option honours it before it opens anything.
    mutating func validate() throws {
        if let store, !store.isEmpty {
            setenv("MLPIPE_STORE", store, 1)
        }
    }
}
