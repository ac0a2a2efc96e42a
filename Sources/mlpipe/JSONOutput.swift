import HistoryServer

/// The JSON shapes of `--json` output live in `HistoryServer`'s ``HistoryJSON``, so that
/// the CLI and `mlpipe serve`'s API print one definition of each object.
typealias JSONOutput = HistoryJSON
