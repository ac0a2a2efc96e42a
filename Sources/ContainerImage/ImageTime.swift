#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one time a reproducible image carries: the commit's time, or `SOURCE_DATE_EPOCH`
/// when the environment sets it (the reproducible-builds.org convention), written as
/// RFC 3339 in UTC without fractions (`2026-11-30T12:00:00Z`).
public enum ImageTime {
    /// `SOURCE_DATE_EPOCH` from `environment` when it is a non-negative integer, else
    /// `commitTime`.
    public static func epoch(commitTime: Int64, environment: [String: String]) -> Int64 {
        if let text = environment["SOURCE_DATE_EPOCH"], let seconds = Int64(text), seconds >= 0 {
            return seconds
        }
        return max(0, commitTime)
    }

    /// `seconds` since 1970 as RFC 3339 in UTC.
    public static func rfc3339(_ seconds: Int64) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let year = String(parts.tm_year + 1900)
        return "\(String(repeating: "0", count: max(0, 4 - year.count)))\(year)-\(two(parts.tm_mon + 1))-"
            + "\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }
}
