/// Which runs ``RunStore/runs(_:)`` lists.
///
/// Every combination of `pipeline` and `status` is served by an index, so a
/// page of results costs the same with 100 runs or 100,000.
public struct RunFilter: Sendable, Hashable {
    /// Only runs of this pipeline (its `name:`), or every pipeline when nil.
    public var pipeline: String?
    /// Only runs with this status, or any status when nil.
    public var status: RunStatus?
    /// At most this many runs, newest first; zero or less means no limit.
    public var limit: Int
    /// Only runs whose name (`run --name`) contains this text, ignoring ASCII case;
    /// any run, named or not, when nil. No index serves it: names are few and short.
    public var name: String?

    /// A filter; the defaults list the 20 newest runs of every pipeline.
    public init(pipeline: String? = nil, status: RunStatus? = nil, limit: Int = 20, name: String? = nil) {
        self.pipeline = pipeline
        self.status = status
        self.limit = limit
        self.name = name
    }

    /// Whether `runName` matches ``name``: what the SQL `LIKE` of the SQLite store decides.
    public func matches(name runName: String?) -> Bool {
        guard let name else { return true }
        guard let runName else { return false }
        return name.isEmpty || runName.lowercased().contains(name.lowercased())
    }

    /// A `LIKE … ESCAPE '\'` pattern for a name containing `text`, with `%`, `_` and
    /// `\` taken literally.
    package static func likePattern(containing text: String) -> String {
        var escaped = ""
        for character in text {
            if character == "%" || character == "_" || character == "\\" { escaped.append("\\") }
            escaped.append(character)
        }
        return "%" + escaped + "%"
    }
}
