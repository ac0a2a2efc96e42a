import Testing
@testable import Deployment

@Suite("ServiceEndpoint: the URL a deploy stage hands to a smoke test")
struct ServiceEndpointTests {
    @Test("a URL with a port keeps its parts and prints back the same")
    func roundTrip() throws {
        let endpoint = try ServiceEndpoint(parsing: "http://127.0.0.1:8081/")
        #expect(endpoint.host == "127.0.0.1" && endpoint.port == 8081 && endpoint.scheme == "http")
        #expect(endpoint.description == "http://127.0.0.1:8081")
        #expect(endpoint.url("/v2/health/ready") == "http://127.0.0.1:8081/v2/health/ready")
    }

    @Test("without a port, http means 80 and https 443; IPv6 keeps its brackets when printed")
    func defaults() throws {
        #expect(try ServiceEndpoint(parsing: "https://iris.ml.svc.cluster.local").port == 443)
        #expect(try ServiceEndpoint(parsing: "HTTP://example").description == "http://example:80")
        #expect(try ServiceEndpoint(parsing: "http://[::1]:9000").description == "http://[::1]:9000")
    }

    @Test("a path, a user, a bad scheme or a bad port is refused with the text and the reason",
          arguments: ["127.0.0.1:80", "ftp://host", "http://host/v2", "http://u@host", "http://host:0",
                      "http://host:99999", "http://host:x", "http://", "http://[::1"])
    func refused(text: String) {
        #expect(throws: EndpointError.self) { try ServiceEndpoint(parsing: text) }
        do { _ = try ServiceEndpoint(parsing: text) } catch {
            #expect("\(error)".contains("'\(text)'"))
        }
    }
}
