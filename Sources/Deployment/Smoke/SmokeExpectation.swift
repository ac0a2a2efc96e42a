import Foundation

/// One field an answer's JSON body must have: where it is, and its value, exactly or within
/// a tolerance.
///
/// The field is a dotted path. A segment that is a whole number indexes an array; any
/// other segment is a key of an object or, in an array of objects, the element whose
/// `"name"` is that segment, which is how V2 outputs are found: `outputs.label.data` is
/// the `data` of the output named `label`. Numbers compare as numbers (`1` equals `1.0`).
/// With a tolerance, the expected value is a number or a (nested) array of numbers, and
/// each actual number must be within the tolerance of its expected one.
public struct SmokeExpectation: Sendable, Hashable {
    /// The dotted path as written, e.g. `outputs.probabilities.data`.
    public var field: String
    /// The value the field must have.
    public var expected: SmokeValue
    /// The largest absolute difference allowed per number; nil for an exact match.
    public var tolerance: Double?

    /// An expectation; `field` must be a non-empty dotted path (see the type's comment).
    public init(field: String, expected: SmokeValue, tolerance: Double? = nil) {
        self.field = field
        self.expected = expected
        self.tolerance = tolerance
    }

    /// The expected value as a report shows it: `[0]`, or `[0.98,0.02] ± 0.01`.
    public var expectedText: String {
        tolerance.map { "\(expected) ± \(SmokeValue.format($0))" } ?? expected.description
    }

    /// The field's segments.
    var segments: [Substring] { field.split(separator: ".", omittingEmptySubsequences: false) }

    /// Nil when `answer` has the field with the expected value; otherwise what was found
    /// instead (nil when the field is missing) and a sentence that says what differs.
    func mismatch(in answer: SmokeValue) -> (actual: SmokeValue?, message: String)? {
        let found: SmokeValue
        switch locate(in: answer) {
        case .failure(let missing): return (nil, missing.problem)
        case .success(let value): found = value
        }
        if let tolerance {
            if let difference = Self.differenceWithin(tolerance, expected: expected, actual: found, at: "") {
                return (found, "\(field) is \(Self.short(found)), expected \(expectedText): \(difference)")
            }
            return nil
        }
        if Self.equal(expected, found) { return nil }
        return (found, "\(field) is \(Self.short(found)), expected \(Self.short(expected))")
    }

    private struct Missing: Error { var problem: String }

    private func locate(in answer: SmokeValue) -> Result<SmokeValue, Missing> {
        var current = answer
        var walked = ""
        for segment in segments {
            let here = walked.isEmpty ? String(segment) : walked + "." + segment
            let within = walked.isEmpty ? "the answer" : walked
            switch current {
            case .object(let members):
                guard let next = members[String(segment)] else {
                    let keys = members.keys.sorted().prefix(12).joined(separator: ", ")
                    return .failure(Missing(problem: "the answer has no field \(here) (\(within) has: \(keys.isEmpty ? "no keys" : keys))"))
                }
                current = next
            case .array(let elements):
                if let index = Int(segment), index >= 0 {
                    guard index < elements.count else {
                        return .failure(Missing(problem: "the answer has no field \(here): \(within) has \(elements.count) elements"))
                    }
                    current = elements[index]
                } else {
                    let named = elements.first { element in
                        if case .object(let members) = element, members["name"] == .string(String(segment)) { return true }
                        return false
                    }
                    guard let named else {
                        let names = elements.compactMap { element -> String? in
                            if case .object(let members) = element, case .string(let name)? = members["name"] { return name }
                            return nil
                        }
                        let known = names.isEmpty ? "no named elements" : "names: " + names.prefix(12).joined(separator: ", ")
                        return .failure(Missing(problem: "the answer has no element named '\(segment)' in \(within) (\(known))"))
                    }
                    current = named
                }
            default:
                return .failure(Missing(problem: "the answer has no field \(here): \(within) is \(current.typeName), "
                                        + "not an object or array"))
            }
            walked = here
        }
        return .success(current)
    }

    static func equal(_ lhs: SmokeValue, _ rhs: SmokeValue) -> Bool {
        switch (lhs, rhs) {
        case (.array(let a), .array(let b)): a.count == b.count && zip(a, b).allSatisfy { equal($0, $1) }
        case (.object(let a), .object(let b)):
            a.count == b.count && a.allSatisfy { key, value in b[key].map { equal(value, $0) } ?? false }
        default: lhs == rhs
        }
    }

    /// Nil when every number of `actual` is within `tolerance` of `expected`'s, else where it is not.
    private static func differenceWithin(_ tolerance: Double, expected: SmokeValue, actual: SmokeValue,
                                         at place: String) -> String? {
        switch (expected, actual) {
        case (.number(let e), .number(let a)):
            let off = abs(a - e)
            return off <= tolerance ? nil : "\(place.isEmpty ? "" : "element \(place) ")\(SmokeValue.format(a)) is off by "
                + String(format: "%.3g", off)
        case (.array(let e), .array(let a)):
            guard e.count == a.count else { return "\(place.isEmpty ? "it" : "element \(place)") has \(a.count) elements, not \(e.count)" }
            for (index, pair) in zip(e, a).enumerated() {
                let inner = place.isEmpty ? "\(index)" : "\(place).\(index)"
                if let problem = differenceWithin(tolerance, expected: pair.0, actual: pair.1, at: inner) { return problem }
            }
            return nil
        default:
            return "\(place.isEmpty ? "it" : "element \(place)") is \(actual.typeName), not \(expected.typeName)"
        }
    }

    /// A value for a message, cut to 200 characters.
    static func short(_ value: SmokeValue) -> String {
        let text = value.description
        return text.count > 200 ? String(text.prefix(200)) + "..." : text
    }
}
