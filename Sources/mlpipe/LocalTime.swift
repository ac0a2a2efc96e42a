import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Local wall-clock times for console lines, formatted with localtime_r.
///
/// A Foundation `DateFormatter` loads ICU's calendar data on first use, which cost about
/// a millisecond of every `mlpipe run` and `mlpipe runs`: more than the query behind
/// `runs`. These two fixed formats need no locale.
enum LocalTime {
    /// `HH:mm:ss`, as each stage event line starts.
    static func clock(_ date: Date) -> String {
        clock(parts(date))
    }

    /// `yyyy-MM-dd HH:mm:ss`, as run lists show when a run started.
    static func timestamp(_ date: Date) -> String {
        let t = parts(date)
        return String(t.tm_year + 1900) + "-" + two(t.tm_mon + 1) + "-" + two(t.tm_mday) + " " + clock(t)
    }

    private static func clock(_ t: tm) -> String {
        two(t.tm_hour) + ":" + two(t.tm_min) + ":" + two(t.tm_sec)
    }

    private static func parts(_ date: Date) -> tm {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var result = tm()
        localtime_r(&seconds, &result)
        return result
    }

    private static func two(_ value: Int32) -> String {
        value < 10 ? "0" + String(value) : String(value)
    }
}
