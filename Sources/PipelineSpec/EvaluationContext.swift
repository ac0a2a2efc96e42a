/// What expressions are evaluated against: a tree of values under context names.
///
/// The engine fills `root` per stage: `params`, `git` (`sha`, `short_sha`, `branch`),
/// `run` (`id`), `pipeline` (`name`), `outputs` (this stage's output paths), `stages`
/// (`NAME` → `outputs`, `metrics`), `secrets` and `env`. A path is looked up member by
/// member: `root["stages"]?.object?["train"]?.object?["outputs"]…`; an integer component
/// indexes a list.
public struct EvaluationContext: Sendable {
    /// Context name → value.
    public var root: [String: Value]

    /// Creates a context from its top-level values.
    public init(root: [String: Value]) { self.root = root }

    /// The value at `path`, or an error naming what is missing and what is there.
    func lookup(_ path: [String], at location: SourceLocation) throws(ExpressionError) -> Value {
        guard let head = path.first, var value = root[head] else {
            throw ExpressionError(location: location, message: "'\(Expression.describe(path))' has no value: "
                                  + "the context '\(path.first ?? "")' is not available here")
        }
        for (depth, component) in path.enumerated().dropFirst() {
            let parent = Expression.describe(Array(path[..<depth]))
            switch value {
            case .object(let members):
                guard let next = members[component] else {
                    let known = members.keys.sorted().joined(separator: ", ")
                    throw ExpressionError(location: location, message: "'\(Expression.describe(path))' has no value: "
                                          + "\(parent) has no '\(component)'"
                                          + (known.isEmpty ? "" : " (it has: \(known))"))
                }
                value = next
            case .array(let items):
                guard let index = Int(component), items.indices.contains(index) else {
                    throw ExpressionError(location: location, message: "'\(Expression.describe(path))' has no value: "
                                          + "\(parent) is a list of \(items.count) items")
                }
                value = items[index]
            default:
                throw ExpressionError(location: location, message: "'\(Expression.describe(path))' has no value: "
                                      + "\(parent) is \(value.typeDescription), not a mapping")
            }
        }
        return value
    }
}
