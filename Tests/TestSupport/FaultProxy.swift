import AsyncHTTPClient
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// What the proxy does with one request.
public enum ProxyAction: Sendable, Equatable {
    /// Pass it to the registry and its answer back.
    case forward
    /// Answer with this status and a registry-style error document, without asking the registry.
    case status(Int)
    /// Reset the connection (RST) as soon as the request's head arrives.
    case reset
    /// Forward, but replace the answer's Docker-Content-Digest with this one.
    case forwardWithDigest(String)
}

/// One request that went through the proxy, and what the proxy did with it.
public struct ProxiedRequest: Sendable {
    public var number: Int
    public var method: String
    /// Path and query, as sent.
    public var uri: String
    public var action: ProxyAction
    public var authorization: String?

    public var path: String { String(uri.prefix { $0 != "?" }) }
}

/// A small HTTP proxy in front of a test server (a registry, an S3 server) that logs every
/// request and injects faults (500s, connection resets, a wrong digest) according to a
/// plan; optionally it also plays a Bearer token service (`/token`) and lets only
/// requests with its token through, as Docker Hub and GHCR do.
///
/// Built on swift-nio (a dependency of async-http-client), listening on 127.0.0.1 on a
/// port the kernel picks. With `keepHost`, the request's Host header goes upstream as
/// sent, so that a request signed for the proxy's address (AWS Signature V4 signs Host)
/// still verifies.
public final class FaultProxy: Sendable {
    /// A token service in front of the registry: Basic `username:password` at `/token`
    /// buys a token; `/v2/` requests without it get a Bearer challenge.
    public struct BearerGate: Sendable {
        public var username: String
        public var password: String
        public var token = "token-\(UUID().uuidString)"

        public init(username: String, password: String) {
            self.username = username
            self.password = password
        }
    }

    public typealias Plan = @Sendable (_ number: Int, _ method: String, _ uri: String) -> ProxyAction

    public let upstream: String
    private let boundPort = NIOLockedValueBox(0)
    public let gate: BearerGate?
    let keepHost: Bool
    private let plan: Plan
    private let log = NIOLockedValueBox<[ProxiedRequest]>([])
    private let channel = NIOLockedValueBox<(any Channel)?>(nil)
    let client: HTTPClient

    /// The port the proxy listens on.
    public var port: Int { boundPort.withLockedValue { $0 } }
    public var address: String { "127.0.0.1:\(port)" }
    /// Every request so far, in arrival order.
    public var requests: [ProxiedRequest] { log.withLockedValue { $0 } }

    private init(upstream: String, gate: BearerGate?, keepHost: Bool, plan: @escaping Plan, client: HTTPClient) {
        self.upstream = upstream
        self.gate = gate
        self.keepHost = keepHost
        self.plan = plan
        self.client = client
    }

    /// Starts a proxy to `upstream` (`host:port`).
    public static func start(upstream: String, gate: BearerGate? = nil, keepHost: Bool = false,
                             plan: @escaping Plan = { _, _, _ in .forward }) async throws -> FaultProxy {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let proxy = FaultProxy(upstream: upstream, gate: gate, keepHost: keepHost, plan: plan, client: client)
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(ProxyHandler(proxy: proxy))
                }
            }
        let server = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        proxy.boundPort.withLockedValue { $0 = server.localAddress?.port ?? 0 }
        proxy.channel.withLockedValue { $0 = server }
        return proxy
    }

    /// Closes the listening socket and the client to the upstream server.
    public func stop() async throws {
        if let server = channel.withLockedValue({ $0 }) { try await server.close() }
        try await client.shutdown()
    }

    /// Logs the request and decides what to do with it.
    fileprivate func decide(_ head: HTTPRequestHead) -> ProxyAction {
        log.withLockedValue { log in
            let number = log.count
            var action = plan(number, head.method.rawValue, head.uri)
            if let gate, action == .forward || isForwardWithDigest(action) {
                action = gateAction(gate, head) ?? action
            }
            log.append(ProxiedRequest(number: number, method: head.method.rawValue, uri: head.uri, action: action,
                                      authorization: head.headers.first(name: "Authorization")))
            return action
        }
    }

    private func isForwardWithDigest(_ action: ProxyAction) -> Bool {
        if case .forwardWithDigest = action { return true }
        return false
    }

    /// 200 / 401 from the token service, 401 for a registry request without the token.
    private func gateAction(_ gate: BearerGate, _ head: HTTPRequestHead) -> ProxyAction? {
        let authorization = head.headers.first(name: "Authorization")
        if head.uri.hasPrefix("/token") {
            let expected = "Basic " + Data("\(gate.username):\(gate.password)".utf8).base64EncodedString()
            return authorization == expected ? .status(200) : .status(401)
        }
        return authorization == "Bearer \(gate.token)" ? nil : .status(401)
    }

    /// The answer the proxy makes itself for `.status`.
    fileprivate func syntheticResponse(_ status: Int, _ head: HTTPRequestHead) -> (HTTPResponseHead, ByteBuffer) {
        var headers = HTTPHeaders()
        var body: String
        if let gate, status == 200, head.uri.hasPrefix("/token") {
            body = #"{"token":"\#(gate.token)","expires_in":300}"#
        } else {
            body = #"{"errors":[{"code":"INJECTED","message":"fault injected by the test proxy"}]}"#
            if status == 401, gate != nil, !head.uri.hasPrefix("/token") {
                let repository = head.uri.split(separator: "/").dropFirst().prefix { $0 != "blobs" && $0 != "manifests" }
                    .dropFirst().joined(separator: "/")
                headers.add(name: "WWW-Authenticate",
                            value: #"Bearer realm="http://127.0.0.1:\#(port)/token",service="fault-proxy",scope="repository:\#(repository):pull""#)
            }
        }
        if head.method == .HEAD { body = "" }
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        return (HTTPResponseHead(version: head.version, status: .init(statusCode: status), headers: headers),
                ByteBuffer(string: body))
    }

    /// The request as it goes to the registry: same method, path, headers and body, minus
    /// the hop-by-hop headers (and the proxy's own token).
    fileprivate func upstreamRequest(_ head: HTTPRequestHead, body: ByteBuffer) throws -> HTTPClient.Request {
        var headers = HTTPHeaders()
        for (name, value) in head.headers {
            switch name.lowercased() {
            case "host" where keepHost: headers.add(name: name, value: value)
            case "host", "content-length", "transfer-encoding", "connection": continue
            case "authorization" where gate != nil: continue
            default: headers.add(name: name, value: value)
            }
        }
        let hasBody = body.readableBytes > 0 || head.method == .PUT || head.method == .PATCH || head.method == .POST
        return try HTTPClient.Request(url: "http://\(upstream)\(head.uri)", method: head.method, headers: headers,
                                      body: hasBody ? .byteBuffer(body) : nil)
    }

    /// The registry's answer as it goes back: its Location pointed at the proxy.
    fileprivate func downstreamHead(_ response: HTTPClient.Response, _ head: HTTPRequestHead,
                                    action: ProxyAction) -> HTTPResponseHead {
        var headers = HTTPHeaders()
        for (name, value) in response.headers {
            switch name.lowercased() {
            case "transfer-encoding", "connection": continue
            case "content-length" where head.method != .HEAD: continue
            case "location": headers.add(name: name, value: value.replacingOccurrences(of: "http://\(upstream)",
                                                                                          with: "http://\(address)"))
            case "docker-content-digest":
                if case .forwardWithDigest(let digest) = action {
                    headers.add(name: name, value: digest)
                } else {
                    headers.add(name: name, value: value)
                }
            default: headers.add(name: name, value: value)
            }
        }
        if head.method != .HEAD {
            headers.add(name: "Content-Length", value: String(response.body?.readableBytes ?? 0))
        }
        return HTTPResponseHead(version: head.version, status: response.status, headers: headers)
    }
}

/// One connection's requests: collects each (head, body), then acts on the plan.
private final class ProxyHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let proxy: FaultProxy
    var head: HTTPRequestHead?
    var body = ByteBuffer()
    var action = ProxyAction.forward

    init(proxy: FaultProxy) {
        self.proxy = proxy
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.clear()
            action = proxy.decide(head)
            if action == .reset {
                self.head = nil
                reset(context)
            }
        case .body(var part):
            body.writeBuffer(&part)
        case .end:
            guard let head else { return }
            self.head = nil
            respond(context, head)
        }
    }

    private func respond(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        if case .status(let status) = action {
            let (responseHead, responseBody) = proxy.syntheticResponse(status, head)
            write(context, responseHead, responseBody)
            return
        }
        let request: HTTPClient.Request
        do {
            request = try proxy.upstreamRequest(head, body: body)
        } catch {
            reset(context)
            return
        }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let action = self.action
        proxy.client.execute(request: request).hop(to: context.eventLoop).whenComplete { result in
            let (handler, context) = bound.value
            switch result {
            case .success(let response):
                let responseHead = handler.proxy.downstreamHead(response, head, action: action)
                handler.write(context, responseHead, head.method == .HEAD ? ByteBuffer() : response.body ?? ByteBuffer())
            case .failure:
                handler.reset(context)
            }
        }
    }

    private func write(_ context: ChannelHandlerContext, _ head: HTTPResponseHead, _ body: ByteBuffer) {
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if body.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    /// SO_LINGER 0, then close: the peer gets a RST, as from a crashed or overloaded server.
    private func reset(_ context: ChannelHandlerContext) {
        if let provider = context.channel as? any SocketOptionProvider {
            _ = provider.setSoLinger(linger(l_onoff: 1, l_linger: 0))
        }
        context.close(promise: nil)
    }
}
