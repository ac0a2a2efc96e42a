import Canonical
import Testing

@Suite("the one escaper and the hashes")
struct CanonicalTests {
    @Test("strings are escaped as RFC 8259 requires and nothing more, control characters as \\u00XX")
    func escaper() {
        #expect(JSONString.quoted("a\"b\\c/é") == #""a\"b\\c/é""#)
        #expect(JSONString.quoted("\n\r\t") == #""\n\r\t""#)
        #expect(JSONString.quoted("\u{08}\u{0C}\u{01}\u{1F}") == #""\u0008\u000c\u0001\u001f""#)
        var bytes: [UInt8] = []
        JSONString.append("\u{08}x\"é", to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == JSONString.quoted("\u{08}x\"é"), "the byte form writes the same text")
    }

    @Test("the canonical writer sorts dictionary keys by their bytes and escapes through the one escaper")
    func writer() {
        var out = CanonicalJSONWriter()
        out.beginObject()
        out.key("a"); out.dictionary(["b": "\u{0C}", "B": "x", "é": "y"])
        out.key("b"); out.array(["1", "\u{08}"])
        out.key("c"); out.integer(3)
        out.endObject()
        #expect(out.text == #"{"a":{"B":"x","b":"\u000c","é":"y"},"b":["1","\u0008"],"c":3}"#)
    }

    @Test("SHA-256 and SHA-1 match the standard test vectors")
    func vectors() {
        #expect(SHA256Hasher.digest(of: Array("abc".utf8)).description
                == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let sha1 = Array("abc".utf8).withUnsafeBytes { SHA1Hasher.digest($0) }
        #expect(sha1.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
                == "a9993e364706816aba3e25717850c26c9cd0d89d")
    }

    @Test("a digest parses only from sha256: and 64 hex digits")
    func digestParsing() {
        #expect(Digest(parsing: "sha256:" + String(repeating: "A", count: 64))?.hex == String(repeating: "a", count: 64))
        #expect(Digest(parsing: String(repeating: "a", count: 64)) == nil)
        #expect(Digest(parsing: "sha256:abc") == nil)
    }
}
