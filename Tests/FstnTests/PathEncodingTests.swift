import Foundation
import FstnKit
import NIOHTTP1
import Testing

/// FS paths travel as ONE percent-encoded URL path segment (docs/api.md).
@Suite("PathEncoding")
struct PathEncodingTests {
    @Test func theDocumentedExample() {
        #expect(PathEncoding.segment("home:<alice,alice>:photos") == "home%3A%3Calice%2Calice%3E%3Aphotos")
    }

    @Test func tildeStaysLiteralAndPercentAndSlashAreEncoded() {
        #expect(PathEncoding.segment("~") == "~")
        #expect(PathEncoding.segment("~:docs") == "~%3Adocs")
        #expect(PathEncoding.segment("%") == "%25")
        #expect(PathEncoding.segment("%:notes") == "%25%3Anotes")
        #expect(PathEncoding.segment("a/b") == "a%2Fb")
        #expect(PathEncoding.segment("..") == "..")
    }

    @Test func unreservedCharactersPassAndEverythingElseIsEncodedByByte() {
        let unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
        #expect(PathEncoding.segment(unreserved) == unreserved)
        #expect(PathEncoding.segment(" ?#&=+") == "%20%3F%23%26%3D%2B")
        #expect(PathEncoding.segment("é") == "%C3%A9")
        #expect(PathEncoding.segment("alice&bob|carol") == "alice%26bob%7Ccarol")
        #expect(PathEncoding.segment("") == "")
    }

    @Test func everyByteRoundTripsAndOnlySafeCharactersRemain() {
        var text = ""
        for scalar in (0x20...0x7E).compactMap(Unicode.Scalar.init) { text.unicodeScalars.append(scalar) }
        text += "ü😀\u{7F}\t\n"
        let encoded = PathEncoding.segment(text)
        #expect(encoded.removingPercentEncoding == text)
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%")
        #expect(encoded.allSatisfy { allowed.contains($0) })
    }

    @Test func requestsPutThePathInOneSegmentAndEncodeTheQuery() {
        var request = APIRequest(.GET, fs: "home:<alice,alice>:a/b", suffix: "/link")
        request.query = [("label", "alice,alice")]
        #expect(request.url(server: "http://127.0.0.1:8080") == "http://127.0.0.1:8080/v1/fs/home%3A%3Calice%2Calice%3E%3Aa%2Fb/link?label=alice%2Calice")
    }
}
