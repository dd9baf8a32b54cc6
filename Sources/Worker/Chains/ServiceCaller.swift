import AsyncHTTPClient
import FileSystem
import Foundation
import Labels
import Monitor
import NIOCore
import NIOHTTP1
import NIOPosix
import Store

#if canImport(Glibc)
    import Glibc
#endif

/// Calls external HTTP services for functions, with the sink rule.
///
/// 1. Reading the service object taints the caller with its label; the caller's
///    privilege must imply the service's invoker clearance.
/// 2. The request leaves only if the caller's label, downgraded with the service's
///    privilege, keeps no secrecy. The downgrade is checked, not kept (the original
///    kept it for the rest of the run).
/// 3. The URL is the service's template with `{name}` filled from the call's
///    parameters (percent-encoded); the headers are the stored ones only; redirects
///    are not followed; the host must not be a loopback, private or link-local
///    address unless the configuration allows it, and the connection goes to the
///    address that was checked (no second lookup an attacker's DNS could change).
/// 4. The caller is tainted with the service's taint, whatever the outcome (before
///    the request is sent, so that a caller whose clearance cannot take it sends nothing).
struct ServiceCaller: Sendable {
    let configuration: EngineConfiguration

    func call(
        _ target: Entry, _ request: GuestInvokeCall, _ context: inout SecurityContext, fileSystem: FileSystem,
        deadline: ContinuousClock.Instant
    ) throws(FSError) -> GuestInvokeReply {
        let service = try fileSystem.synchronously(.read, &context) { session, context throws(FSError) in
            try session.read(service: target, &context)
        }
        try context.checkInvoke(requiring: service.invokerIntegrityClearance)
        try context.checkSend(through: service.privilege)
        let url = try Self.fill(service.url, with: request.parameters)
        guard let components = URLComponents(string: url), let host = components.host, !host.isEmpty else {
            throw .badArgument("the service URL \(url) has no host")
        }
        let address = try resolve(host)

        // The answer (or how the call failed) is data at the service's taint. Tainting
        // before sending changes nothing for a label that only grows, and refuses the
        // call, with nothing sent, if the caller's clearance could not take the answer.
        try context.read(service.taint)
        let limit = configuration.maxServiceResponseBytes
        // One deadline for the whole exchange (connecting, the headers and every byte of
        // the body): the service's limit, or the caller's own deadline if sooner.
        let timeout = min(configuration.serviceTimeout, deadline - .now)
        guard timeout > .zero else { throw .unavailable("the service at \(url) was not called: the invocation's deadline has passed") }
        let outcome = try ChainInvoker.wait { () async throws(FSError) -> GuestInvokeReply in
            do {
                return try await Self.send(
                    url: url, host: host, address: address, service: service, body: request.payload, limit: limit,
                    timeout: timeout)
            } catch let error as FSError {
                throw error
            } catch {
                throw .unavailable("the service at \(url) failed: \(Self.describe(error))")
            }
        }
        return outcome
    }

    private static func send(
        url: String, host: String, address: String, service: Service, body: [UInt8], limit: Int, timeout: Duration
    ) async throws -> GuestInvokeReply {
        var settings = HTTPClient.Configuration(redirectConfiguration: .disallow)
        settings.dnsOverride = [host: address]
        settings.timeout = .init(connect: .init(timeout), read: .init(timeout))
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: settings)
        // A service that trickles its answer cannot hold the call past the deadline: the
        // call ends then, and the exchange is cancelled behind it.
        return try await Deadline.race(until: .now + timeout, timedOut: HTTPClientError.deadlineExceeded) {
            do {
                let result = try await exchange(client: client, url: url, service: service, body: body, limit: limit, timeout: timeout)
                try? await client.shutdown()
                return result
            } catch {
                try? await client.shutdown()
                throw error
            }
        }
    }

    private static func exchange(
        client: HTTPClient, url: String, service: Service, body: [UInt8], limit: Int, timeout: Duration
    ) async throws -> GuestInvokeReply {
        var http = HTTPClientRequest(url: url)
        http.method = HTTPMethod(rawValue: service.verb.rawValue)
        for (name, value) in service.headers { http.headers.add(name: name, value: value) }
        if !body.isEmpty { http.body = .bytes(body) }
        let response = try await client.execute(http, timeout: .init(timeout))
        var received: [UInt8] = []
        for try await chunk in response.body {
            guard received.count + chunk.readableBytes <= limit else {
                throw FSError.limitExceeded("the service's response in bytes", limit: limit)
            }
            received += chunk.readableBytesView
        }
        var headers: [String: String] = [:]
        for header in response.headers {
            headers[header.name.lowercased()] = headers[header.name.lowercased()].map { $0 + ", " + header.value } ?? header.value
        }
        return GuestInvokeReply(body: received, status: Int(response.status.code), headers: headers)
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            if error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout { return "timed out" }
        }
        if error is CancellationError { return "timed out" }
        return "\(error)"
    }

    // MARK: URL templates

    /// The template with every `{name}` replaced by the percent-encoded parameter.
    static func fill(_ template: String, with parameters: [String: String]) throws(FSError) -> String {
        var output = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            output += rest[..<open]
            guard let close = rest[open...].firstIndex(of: "}") else {
                throw .badArgument("the service URL has an unclosed '{'")
            }
            let name = String(rest[rest.index(after: open)..<close])
            guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
                throw .badArgument("'{\(name)}' is not a parameter name (letters, digits, '_' and '-')")
            }
            guard let value = parameters[name] else {
                throw .badArgument("the service URL needs the parameter '\(name)'")
            }
            // Unreserved, so not encoded, yet a dot-segment a server would resolve to
            // another path: a parameter is always exactly one segment.
            guard value != "." && value != ".." else {
                throw .badArgument("the parameter '\(name)' may not be '\(value)': it would be a dot-segment of the URL's path")
            }
            output += value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
            rest = rest[rest.index(after: close)...]
        }
        output += rest
        return output
    }

    /// RFC 3986 unreserved characters: a parameter can never add a path segment, a
    /// query or another host.
    private static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    // MARK: Addresses

    /// The address to connect to: the first the host resolves to, after checking that
    /// none of them is internal (unless allowed).
    private func resolve(_ host: String) throws(FSError) -> String {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(bare, nil, &hints, &list)
        guard status == 0, let list else {
            throw .unavailable("cannot resolve the service host \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var addresses: [IPAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = list
        while let entry = cursor {
            if let address = IPAddress(entry.pointee.ai_addr) { addresses.append(address) }
            cursor = entry.pointee.ai_next
        }
        guard let first = addresses.first else { throw .unavailable("the service host \(host) has no address") }
        if !configuration.allowPrivateServiceAddresses, let inner = addresses.first(where: \.isInternal) {
            throw .badArgument(
                "the service host \(host) resolves to the internal address \(inner.text); services may only reach public addresses")
        }
        return first.text
    }
}

/// An IPv4 or IPv6 address, classified.
struct IPAddress: Sendable {
    let bytes: [UInt8]

    init?(_ pointer: UnsafeMutablePointer<sockaddr>?) {
        guard let pointer else { return nil }
        switch Int32(pointer.pointee.sa_family) {
        case AF_INET:
            let address = pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
            bytes = withUnsafeBytes(of: address) { Array($0) }
        case AF_INET6:
            let address = pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
            bytes = withUnsafeBytes(of: address) { Array($0) }
        default:
            return nil
        }
    }

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    var text: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        _ = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Loopback, private, link-local, unspecified, carrier-grade NAT, benchmarking,
    /// IETF protocol assignments, multicast and reserved ranges, and every IPv6 form
    /// that carries an IPv4 address inside it (mapped, compatible, NAT64, 6to4), which
    /// is judged by the address it carries.
    var isInternal: Bool {
        if bytes.count == 16 {
            if let embedded = embeddedIPv4 { return IPAddress(bytes: embedded).isInternal }
            if bytes.allSatisfy({ $0 == 0 }) { return true }  // ::
            if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }  // ::1
            if bytes[0] & 0xFE == 0xFC { return true }  // fc00::/7 unique local
            if bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80 { return true }  // fe80::/10 link-local
            if bytes[0] == 0xFE && bytes[1] & 0xC0 == 0xC0 { return true }  // fec0::/10 site-local (deprecated)
            if bytes[0] == 0xFF { return true }  // multicast
            return false
        }
        let (a, b, c) = (bytes[0], bytes[1], bytes[2])
        return a == 0 || a == 10 || a == 127 || (a == 169 && b == 254) || (a == 172 && b & 0xF0 == 16)
            || (a == 192 && b == 168) || (a == 100 && b & 0xC0 == 64) || a >= 224
            || (a == 192 && b == 0 && c == 0)  // 192.0.0.0/24 IETF protocol assignments
            || (a == 198 && b & 0xFE == 18)  // 198.18.0.0/15 benchmarking
    }

    /// The IPv4 address inside an IPv6 one: `::ffff:a.b.c.d` (mapped), `::a.b.c.d`
    /// (compatible; `::` and `::1` land in 0.0.0.0/8), `64:ff9b::a.b.c.d` (NAT64) and
    /// `2002:aabb:ccdd::/48` (6to4). A resolver may hand any of them out for an
    /// internal IPv4 host.
    private var embeddedIPv4: [UInt8]? {
        let zeros = { (range: Range<Int>) in self.bytes[range].allSatisfy { $0 == 0 } }
        if zeros(0..<10) && bytes[10] == 0xFF && bytes[11] == 0xFF { return Array(bytes[12...]) }
        if zeros(0..<12) { return Array(bytes[12...]) }
        if bytes[0..<4] == [0x00, 0x64, 0xFF, 0x9B] && zeros(4..<12) { return Array(bytes[12...]) }
        if bytes[0] == 0x20 && bytes[1] == 0x02 { return Array(bytes[2..<6]) }
        return nil
    }
}
