import HistoryServer

/// The JSON shapes of `models … --json` live in `HistoryServer`'s ``RegistryJSON``, so
/// that the CLI and `mlpipe serve`'s API print one definition of each object.
typealias ModelsJSON = RegistryJSON
