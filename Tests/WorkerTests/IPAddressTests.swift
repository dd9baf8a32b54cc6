import Foundation
import Testing

@testable import Worker

/// Which resolved addresses a service may not reach: every form an internal IPv4 host
/// can take inside IPv6 is judged by the IPv4 address it carries.
struct IPAddressTests {
    private static func address(_ text: String) -> IPAddress {
        var bytes = [UInt8](repeating: 0, count: 16)
        if inet_pton(AF_INET, text, &bytes) == 1 { return IPAddress(bytes: Array(bytes[0..<4])) }
        precondition(inet_pton(AF_INET6, text, &bytes) == 1, "not an address: \(text)")
        return IPAddress(bytes: bytes)
    }

    @Test(arguments: [
        "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
        "192.0.0.8", "198.18.0.1", "198.19.255.255", "224.0.0.1", "255.255.255.255",
        "::", "::1", "fc00::1", "fe80::1", "fec0::1", "ff02::1",
        "::ffff:127.0.0.1", "::127.0.0.1", "::10.0.0.1", "64:ff9b::a9fe:a9fe", "2002:7f00:1::1", "2002:c0a8:101::",
    ])
    func internalAddressesAreRecognised(_ text: String) {
        #expect(Self.address(text).isInternal, "\(text) should be internal")
    }

    @Test(arguments: [
        "8.8.8.8", "1.1.1.1", "192.0.2.1", "198.20.0.1", "172.32.0.1", "100.128.0.1",
        "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1",
    ])
    func publicAddressesAreNot(_ text: String) {
        #expect(!Self.address(text).isInternal, "\(text) should be public")
    }
}
