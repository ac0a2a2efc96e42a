/// Where a secret's value comes from at run time. The pipeline file names the source,
/// never the value, so a secret never enters the run record or a cache key.
public enum SecretSource: Sendable, Hashable {
    /// An environment variable of the `mlpipe` process, by name.
    case env(String)
    /// A file whose content (without a trailing newline) is the value.
    case file(String)
}
