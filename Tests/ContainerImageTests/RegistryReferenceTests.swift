import Canonical
@testable import ContainerImage
import Testing

@Suite("Registry references, challenges and schemes")
struct RegistryReferenceTests {
    static let hex = String(repeating: "ab", count: 32)

    @Test("a reference splits into registry, repository, tag and digest as docker reads it",
          arguments: [
              ("127.0.0.1:5000/models/iris:1.2", "127.0.0.1:5000", "models/iris", "1.2", nil),
              ("localhost/iris", "localhost", "iris", nil, nil),
              ("ghcr.io/acme/base@sha256:\(hex)", "ghcr.io", "acme/base", nil, "sha256:\(hex)"),
              ("ghcr.io/acme/base:3.12@sha256:\(hex)", "ghcr.io", "acme/base", "3.12", "sha256:\(hex)"),
              ("python:3.12-slim", "docker.io", "library/python", "3.12-slim", nil),
              ("acme/app", "docker.io", "acme/app", nil, nil),
          ] as [(String, String, String, String?, String?)])
    func parse(text: String, registry: String, repository: String, tag: String?, digest: String?) throws {
        let reference = try RegistryReference(parsing: text)
        #expect(reference.registry == registry)
        #expect(reference.repository == repository)
        #expect(reference.tag == tag)
        #expect(reference.digest?.description == digest)
    }

    @Test("a bad repository, tag or digest is refused with what is wrong")
    func badReferences() {
        let repository = #expect(throws: RegistryError.self) { try RegistryReference(parsing: "ghcr.io/Acme/app:1") }
        #expect(repository?.description == "'ghcr.io/Acme/app:1': 'Acme/app' is not a repository name: use "
                    + "lowercase letters, digits and . _ - between them, components joined by /")
        let tag = #expect(throws: RegistryError.self) { try RegistryReference(parsing: "ghcr.io/acme/app:-x") }
        #expect(tag?.code == .invalidReference)
        let digest = #expect(throws: RegistryError.self) { try RegistryReference(parsing: "ghcr.io/acme/app@sha256:12") }
        #expect(digest?.description == "'ghcr.io/acme/app@sha256:12': the part after @ must be sha256:<64 hex digits>")
    }

    @Test("Bearer challenges give realm, service and scope, quoted commas and all")
    func challenges() throws {
        let docker = try #require(RegistryChallenge(
            #"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull,push""#))
        #expect(docker.scheme == .bearer)
        #expect(docker.realm == "https://auth.docker.io/token")
        #expect(docker.service == "registry.docker.io")
        #expect(docker.scope == "repository:a/b:pull,push")
        let basic = try #require(RegistryChallenge(#"Basic realm="Registry Realm""#))
        #expect(basic.scheme == .basic)
        #expect(RegistryChallenge(#"Bearer service="x""#) == nil)  // no realm to ask
        #expect(RegistryChallenge("Negotiate abc") == nil)
    }

    @Test("loopback registries are spoken to over http, others over https unless insecure")
    func schemes() {
        #expect(RegistryTransport.usesPlainHTTP("127.0.0.1:5000", insecure: false))
        #expect(RegistryTransport.usesPlainHTTP("localhost", insecure: false))
        #expect(RegistryTransport.usesPlainHTTP("[::1]:5000", insecure: false))
        #expect(!RegistryTransport.usesPlainHTTP("ghcr.io", insecure: false))
        #expect(!RegistryTransport.usesPlainHTTP("10.0.0.5:5000", insecure: false))
        #expect(RegistryTransport.usesPlainHTTP("10.0.0.5:5000", insecure: true))
    }

    @Test("credentials print their user and secret names, never the password or token")
    func credentialsHideValues() {
        let basic = RegistryCredentials.basic(username: "ci", password: "hunter2", secrets: ["REGISTRY_PASSWORD"])
        let bearer = RegistryCredentials.bearer(token: "tok-123", secrets: ["GHCR_TOKEN"])
        #expect("\(basic)" == "basic credentials for user 'ci' from the secret REGISTRY_PASSWORD")
        #expect("\(bearer)" == "a bearer token from the secret GHCR_TOKEN")
        var dumped = ""
        dump(basic, to: &dumped)
        dump(bearer, to: &dumped)
        #expect(!dumped.contains("hunter2") && !dumped.contains("tok-123"))
        #expect(!String(reflecting: basic).contains("hunter2"))
    }
}
