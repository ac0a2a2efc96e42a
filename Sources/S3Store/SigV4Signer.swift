import Canonical
import Foundation

/// AWS Signature Version 4 for S3, in the `Authorization` header.
///
/// Follows "Authenticating Requests: Using the Authorization Header" of the S3 API
/// reference: a canonical request (method, URI-encoded path, sorted query, sorted
/// lower-case headers, signed header names, payload hash), a string to sign with the
/// scope `DATE/REGION/s3/aws4_request`, and a key derived by HMAC-SHA256 from
/// `AWS4` + secret through date, region, service and `aws4_request`. The unit tests check
/// it against the published example signature (`GET /test.txt` with a `Range`).
///
/// Every header given to ``sign(method:path:query:headers:payloadHash:date:)`` is
/// signed; `host`, `x-amz-date`, `x-amz-content-sha256` (and `x-amz-security-token`
/// with temporary credentials) are added to them.
struct SigV4Signer: Sendable {
    var credentials: S3Credentials
    var region: String
    var service = "s3"

    /// The SHA-256 of an empty body, hex.
    static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    /// The payload hash of a body that is not hashed (multipart parts streamed from disk).
    static let unsignedPayload = "UNSIGNED-PAYLOAD"

    /// The headers to send: `headers` plus the date, payload hash, token and `Authorization`.
    ///
    /// - Parameters:
    ///   - path: the absolute path, not yet encoded (`/bucket/prefix/cas/sha256/ab…`).
    ///   - query: names and values, not yet encoded.
    ///   - headers: names and values to sign; must include `host`.
    func sign(method: String, path: String, query: [(String, String)], headers: [(String, String)],
              payloadHash: String, date: Date) -> [(String, String)] {
        let (amzDate, day) = Self.timestamps(date)
        var all = headers.map { ($0.0.lowercased(), $0.1.trimmingCharacters(in: .whitespaces)) }
        all.append(("x-amz-date", amzDate))
        all.append(("x-amz-content-sha256", payloadHash))
        if let token = credentials.sessionToken { all.append(("x-amz-security-token", token)) }
        all.sort { $0.0 < $1.0 }
        let signedHeaders = all.map(\.0).joined(separator: ";")
        let canonicalRequest = [
            method,
            Self.encode(path, keepSlash: true),
            Self.canonicalQuery(query),
            all.map { "\($0.0):\($0.1)\n" }.joined(),
            signedHeaders,
            payloadHash,
        ].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope,
                            SHA256Hasher.digest(of: canonicalRequest.utf8).hex].joined(separator: "\n")
        var key = HMACSHA256.mac(key: Array(("AWS4" + credentials.secretAccessKey).utf8), message: Array(day.utf8))
        key = HMACSHA256.mac(key: key, message: Array(region.utf8))
        key = HMACSHA256.mac(key: key, message: Array(service.utf8))
        key = HMACSHA256.mac(key: key, message: Array("aws4_request".utf8))
        let signature = HMACSHA256.hex(HMACSHA256.mac(key: key, message: Array(stringToSign.utf8)))
        all.append(("authorization",
                    "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope),SignedHeaders=\(signedHeaders),Signature=\(signature)"))
        return all
    }

    /// `20130524T000000Z` and `20130524`, in UTC.
    static func timestamps(_ date: Date) -> (String, String) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let day = String(format: "%04d%02d%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
        return (day + String(format: "T%02d%02d%02dZ", c.hour ?? 0, c.minute ?? 0, c.second ?? 0), day)
    }

    /// Sorted by name, then value; each encoded; `name=` for an empty value.
    static func canonicalQuery(_ query: [(String, String)]) -> String {
        var pairs: [(String, String)] = query.map { pair in
            (encode(pair.0, keepSlash: false), encode(pair.1, keepSlash: false))
        }
        pairs.sort { (a: (String, String), b: (String, String)) -> Bool in a.0 == b.0 ? a.1 < b.1 : a.0 < b.0 }
        return pairs.map { pair in pair.0 + "=" + pair.1 }.joined(separator: "&")
    }

    /// RFC 3986 percent-encoding of everything but the unreserved characters (and `/` in
    /// a path), with uppercase hex, as S3 computes it. The same text goes on the wire, so
    /// the server and the signer see one path.
    static func encode(_ text: String, keepSlash: Bool) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                 UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where keepSlash:
                out.append("/")
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }
}
