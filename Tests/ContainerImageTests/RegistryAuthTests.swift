import ContainerImage
import Foundation
import TestSupport
import Testing

private let user = "mlpipe-ci"
private let password = "pa55-Wörd-never-shown"

@Suite("Basic auth against docker-registry with htpasswd", .registryServer(users: [user: password]))
struct RegistryBasicAuthTests {
    let server: RegistryTestServer

    init() throws {
        server = try #require(RegistryTestServer.current, "the suite's registry did not start")
    }

    @Test("a username and password from secrets push an image that skopeo sees with the same login")
    func basicAuthPush() async throws {
        let layout = try RegistryTestLayout.make(layerSizes: [1000])
        let credentials = RegistryCredentials.basic(username: user, password: password,
                                                    secrets: ["REGISTRY_USER", "REGISTRY_PASSWORD"])
        let result = try await RegistryClient.with(registry: server.address, credentials: credentials,
                                                   options: registryTestOptions()) { client in
            try await client.push(layout: layout.folder, repository: "private/model", tags: ["1"])
        }
        let inspected = try tool("skopeo", "inspect", "--tls-verify=false", "--creds", "\(user):\(password)",
                                 "docker://\(server.address)/private/model:1")
        #expect(inspected.contains(result.manifestDigest.description))
    }

    @Test("a wrong password is a 401 that names the registry, repository and secret, never the password")
    func wrongPassword() async throws {
        let layout = try RegistryTestLayout.make(layerSizes: [1000])
        let wrong = "wrong-" + password
        let credentials = RegistryCredentials.basic(username: user, password: wrong, secrets: ["REGISTRY_PASSWORD"])
        let error = await #expect(throws: RegistryError.self) {
            try await RegistryClient.with(registry: server.address, credentials: credentials,
                                          options: registryTestOptions()) { client in
                try await client.push(layout: layout.folder, repository: "private/model", tags: ["1"])
            }
        }
        #expect(error?.code == .unauthorized)
        #expect(error?.description == "registry \(server.address) refused the credentials for repository "
                    + "'private/model' (401): check the secret REGISTRY_PASSWORD")
        #expect(error.map { "\($0)" }?.contains(wrong) == false)
        #expect(!"\(credentials)".contains(wrong))
        #expect(!String(reflecting: credentials).contains(wrong))
    }

    @Test("no credentials for a registry that wants them asks for them")
    func anonymousRefused() async throws {
        let error = await #expect(throws: RegistryError.self) {
            try await RegistryClient.with(registry: server.address, options: registryTestOptions()) { client in
                try await client.resolve(repository: "private/model", tag: "1")
            }
        }
        #expect(error?.code == .unauthorized)
        #expect(error?.description == "registry \(server.address) requires credentials for repository "
                    + "'private/model' (401): pass a username and password (or a token) from a secret")
    }
}

@Suite("Bearer tokens from the WWW-Authenticate challenge", .registryServer())
struct RegistryBearerAuthTests {
    let server: RegistryTestServer

    init() throws {
        server = try #require(RegistryTestServer.current, "the suite's registry did not start")
    }

    @Test("a Bearer challenge is answered with a token for the push scope, fetched with the credentials")
    func bearerPush() async throws {
        let layout = try RegistryTestLayout.make(layerSizes: [1000])
        let gate = FaultProxy.BearerGate(username: user, password: password)
        let proxy = try await FaultProxy.start(upstream: server.address, gate: gate)
        let credentials = RegistryCredentials.basic(username: user, password: password, secrets: ["GHCR_TOKEN"])
        let result = try await RegistryClient.with(registry: proxy.address, credentials: credentials,
                                                   options: registryTestOptions()) { client in
            try await client.push(layout: layout.folder, repository: "team/model", tags: ["v2"])
        }
        try await proxy.stop()
        let tokenRequests = proxy.requests.filter { $0.path == "/token" }
        #expect(tokenRequests.count == 1)
        #expect(tokenRequests.first?.uri.contains("scope=repository:team/model:pull,push") == true)
        #expect(tokenRequests.first?.uri.contains("service=fault-proxy") == true)
        // After the first challenge every request carries the token.
        #expect(proxy.requests.dropFirst(2).filter { $0.path != "/token" }
            .allSatisfy { $0.authorization == "Bearer \(gate.token)" })
        try expectSkopeoCopyMatches("\(server.address)/team/model:v2", layout)
        #expect(result.manifestDigest == (try layout.manifestDigest()))
    }

    @Test("a token service that refuses the credentials is a 401 naming the secret")
    func bearerRefused() async throws {
        let gate = FaultProxy.BearerGate(username: user, password: password)
        let proxy = try await FaultProxy.start(upstream: server.address, gate: gate)
        let credentials = RegistryCredentials.basic(username: user, password: "nope-\(password)", secrets: ["GHCR_TOKEN"])
        let error = await #expect(throws: RegistryError.self) {
            try await RegistryClient.with(registry: proxy.address, credentials: credentials,
                                          options: registryTestOptions()) { client in
                try await client.resolve(repository: "team/model", tag: "v2")
            }
        }
        try await proxy.stop()
        #expect(error?.description == "registry \(proxy.address) refused the credentials for repository "
                    + "'team/model' (401): check the secret GHCR_TOKEN")
    }
}
