import AsyncHTTPClient
import Foundation

/// Waits for a started service to answer `GET /v2/health/ready` with 200, as long as its
/// process runs and the deadline has not passed.
///
/// Over HTTPS the probe does not check the certificate: it asks the process that mlpipe
/// itself started, on 127.0.0.1, only whether the model is loaded; a smoke test is what
/// calls the service as a client would.
struct ReadinessProbe {
    /// Why the wait ended without a ready service.
    enum Failure: Error {
        /// The process exited.
        case exited
        /// The deadline passed; the last answer or connection error.
        case timedOut(last: String)
    }

    var endpoint: ServiceEndpoint
    var timeout: Double

    /// Returns once ready; throws `Failure` otherwise, or `CancellationError`.
    func wait(while isAlive: @Sendable () -> Bool) async throws {
        var configuration = HTTPClient.Configuration(certificateVerification: .none)
        configuration.timeout = .init(connect: .seconds(2), read: .seconds(2))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            try await poll(client, isAlive)
            try await client.shutdown()
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private func poll(_ client: HTTPClient, _ isAlive: @Sendable () -> Bool) async throws {
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeout * 1000))
        var last = "no answer yet"
        while true {
            try Task.checkCancellation()
            guard isAlive() else { throw Failure.exited }
            do {
                var request = HTTPClientRequest(url: endpoint.url("/v2/health/ready"))
                request.method = .GET
                let response = try await client.execute(request, timeout: .seconds(2))
                if response.status.code == 200 { return }
                last = "HTTP \(response.status.code)"
            } catch {
                last = "\(error)"
            }
            guard ContinuousClock.now < deadline else { throw Failure.timedOut(last: last) }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
