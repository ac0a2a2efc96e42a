import Deployment
import PipelineSpec

/// The `with:` of a `smoke-test` stage, as a settings type: `mlpipe lint` checks every key
/// and value from this type alone.
///
/// ```yaml
/// with:
///   endpoint: ${{ stages.deploy.results.endpoint }}   # the service to test
///   requests: examples/iris/requests.jsonl            # JSON Lines: body, status, expected fields
///   rate: 20                                          # optional: requests per second (default 10)
///   duration: 5s                                      # optional: how long, or
///   count: 100                                        #   how many requests (default: each line once)
///   concurrency: 4                                    # optional: in flight at most (default 4)
///   thresholds: { p50: 50ms, p95: 100ms, p99: 200ms, error_rate: 0.01 }   # optional
///   token: SMOKE_TOKEN                                # optional: the secret with a bearer token (a JWT)
///   on_failure: rollback                              # optional: rollback (default) or keep
/// ```
public struct SmokeTestSettings: KindSettings {
    /// What a failed test does to the deployment it tested.
    public enum OnFailure: String, Sendable, CaseIterable {
        /// Stop it, let the version it replaced serve, move the alias back.
        case rollback
        /// Leave it running beside the one it replaced (to look at it); the stage still fails.
        case keep
    }

    /// The service.
    public var endpoint: ServiceEndpoint
    /// The requests file, relative to the repository unless absolute.
    public var requests: String
    /// Requests per second.
    public var rate: Double
    /// How long the test goes on (seconds), or how many requests it sends; neither: each
    /// line of the file once.
    public var duration: Double?
    public var count: Int?
    /// Requests in flight at most.
    public var concurrency: Int
    /// Latency limits in milliseconds, and the error rate.
    public var p50: Double?
    public var p95: Double?
    public var p99: Double?
    public var errorRate: Double?
    /// The secret holding the bearer token.
    public var token: String?
    /// What a failure does.
    public var onFailure: OnFailure

    enum CodingKeys: String, CodingKey, CaseIterable {
        case endpoint, requests, rate, duration, count, concurrency, thresholds, token
        case onFailure = "on_failure"
    }

    enum ThresholdKeys: String, CodingKey, CaseIterable {
        case p50, p95, p99
        case errorRate = "error_rate"
    }

    /// Reads and checks every key; see the type's documentation.
    public init(from decoder: any Decoder) throws {
        let settings = try decoder.container(keyedBy: CodingKeys.self)
        endpoint = try settings.decode(Endpoint.self, forKey: .endpoint).endpoint
        requests = try settings.decode(RegisterSettings.NonEmpty.self, forKey: .requests).text
        rate = try settings.decodeIfPresent(Positive.self, forKey: .rate)?.value ?? 10
        duration = try settings.decodeIfPresent(Length.self, forKey: .duration)?.milliseconds.map { $0 / 1000 }
        count = try settings.decodeIfPresent(Positive.self, forKey: .count).map { Int($0.value) }
        if duration != nil, count != nil {
            throw SettingsError("give `duration` or `count`, not both", at: settings.codingPath + [CodingKeys.count])
        }
        concurrency = try settings.decodeIfPresent(Positive.self, forKey: .concurrency).map { Int($0.value) } ?? 4
        if settings.contains(.thresholds) {
            let limits = try settings.nestedContainer(keyedBy: ThresholdKeys.self, forKey: .thresholds)
            p50 = try limits.decodeIfPresent(Length.self, forKey: .p50)?.milliseconds
            p95 = try limits.decodeIfPresent(Length.self, forKey: .p95)?.milliseconds
            p99 = try limits.decodeIfPresent(Length.self, forKey: .p99)?.milliseconds
            errorRate = try limits.decodeIfPresent(Share.self, forKey: .errorRate)?.value
        }
        token = try settings.decodeIfPresent(RegisterSettings.NonEmpty.self, forKey: .token)?.text
        onFailure = try settings.decodeIfPresent(Failure.self, forKey: .onFailure)?.value ?? .rollback
    }

    /// `endpoint`: an http(s) URL.
    struct Endpoint: Decodable {
        var endpoint: ServiceEndpoint

        init(from decoder: any Decoder) throws {
            let text = try decoder.singleValueContainer().decode(RegisterSettings.NonEmpty.self).text
            // At lint time an expression's text stands for a value not known yet: it is
            // checked when the stage starts, and must not hide the other keys' problems.
            if text.contains("${{") {
                endpoint = ServiceEndpoint(scheme: "http", host: "not-known-yet", port: 80)
                return
            }
            do { endpoint = try ServiceEndpoint(parsing: text) } catch { throw SettingsError("\(error)") }
        }
    }

    /// A number above 0.
    struct Positive: Decodable {
        var value: Double

        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(Value.self)
            switch value {
            case .int(let number) where number > 0: self.value = Double(number)
            case .double(let number) where number > 0 && number.isFinite: self.value = number
            default: throw SettingsError("\(ValidateSettings.shown(value)) is not a number above 0")
            }
        }
    }

    /// A time with its unit: `250ms`, `5s`, `2m`; nil milliseconds stand for nothing.
    struct Length: Decodable {
        var milliseconds: Double?

        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(Value.self)
            let problem = SettingsError("\(ValidateSettings.shown(value)) is not a time; write it with its unit: "
                                        + "250ms, 5s or 2m")
            guard case .string(let text) = value else { throw problem }
            let units: [(String, Double)] = [("ms", 1), ("s", 1000), ("m", 60_000)]
            guard let (unit, scale) = units.first(where: { text.hasSuffix($0.0) }),
                  let number = Double(text.dropLast(unit.count)), number > 0, number.isFinite else { throw problem }
            milliseconds = number * scale
        }
    }

    /// A share from 0 to 1.
    struct Share: Decodable {
        var value: Double

        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(Value.self)
            let number: Double? = switch value {
            case .int(let number): Double(number)
            case .double(let number): number
            default: nil
            }
            guard let number, (0...1).contains(number) else {
                throw SettingsError("\(ValidateSettings.shown(value)) is not a share from 0 to 1 (0.01 is 1 %)")
            }
            self.value = number
        }
    }

    /// `on_failure`.
    struct Failure: Decodable {
        var value: OnFailure

        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(Value.self)
            guard case .string(let text) = value, let choice = OnFailure(rawValue: text) else {
                throw SettingsError("\(ValidateSettings.shown(value)) is not what a failure does; use "
                                    + OnFailure.allCases.map(\.rawValue).joined(separator: " or "))
            }
            self.value = choice
        }
    }
}
