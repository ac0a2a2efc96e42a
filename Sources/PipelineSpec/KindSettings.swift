/// A stage kind's `with:` settings, as a type: what keys it takes, of which types, and
/// which values it accepts.
///
/// The type alone is the schema. `mlpipe lint` decodes every stage's `with:` into it with
/// `SettingsDecoder`, so that an unknown key (with a did-you-mean), a missing key, a value
/// of the wrong type and a value the type's `init(from:)` refuses (`SettingsError`) are
/// reported at their FILE:LINE:COL before anything runs; when the stage starts, the
/// rendered values are decoded again, with the same messages at the same places.
///
/// Write it as a plain `Decodable` struct. Optional properties are optional keys. A value
/// that needs checking beyond its type is a small `Decodable` type of its own that throws
/// `SettingsError` from `init(from:)`, so the error points at that value:
///
/// ```swift
/// struct DeploySettings: KindSettings {
///     var package: String
///     var port: Port?
/// }
/// struct Port: Decodable, Sendable {
///     var number: Int
///     init(from decoder: any Decoder) throws {
///         number = try decoder.singleValueContainer().decode(Int.self)
///         guard (1...65_535).contains(number) else {
///             throw SettingsError("\(number) is not a port; use 1 to 65535")
///         }
///     }
/// }
/// ```
///
/// A key is unknown when `CodingKeys` has no case for it. Declare `CodingKeys`
/// `CaseIterable` (as `validate` does) so that "did you mean" and "its keys are" choose
/// among all keys even when a bad value stops the decode early.
///
/// At lint time a value that holds a `${{ }}` expression is not known yet: it decodes as a
/// placeholder (a `String` gets the expression's text, a number 0, a boolean false), and
/// whatever fails because of it is not reported then, but when the stage starts.
public protocol KindSettings: Decodable, Sendable {}

/// The settings of a kind that takes no `with:` (`command`): any key is an error,
/// "kind 'command' takes no `with:` settings; …", at the `with:` key.
public struct NoSettings: KindSettings, Equatable {
    /// No settings.
    public init() {}

    /// Reads nothing; `SettingsDecoder` reports a non-empty `with:` before it gets here.
    public init(from decoder: any Decoder) throws {}
}
