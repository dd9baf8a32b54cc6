import Foundation
/// A `multipart/form-data` body (RFC 7578), held in memory: the original API's invoke
/// form, with a `payload` field, an optional `label` field and file parts.
///
/// ```swift
/// let form = try MultipartForm(body, contentType: "multipart/form-data; boundary=x")
/// form.fields["payload"]   // the field's bytes
/// form.files               // [(name: "photo.jpg", bytes: …)]
/// ```
///
/// Strict: a part without a `Content-Disposition: form-data; name=…` header, a body that
/// does not end with the closing boundary, or more than ``maxParts`` parts is an error.
struct MultipartForm {
    /// Fields without a filename, by name (a repeated name keeps its last value).
    var fields: [String: [UInt8]] = [:]
    /// File parts in order: the file's name (or `blob<i>` if it gave none) and its bytes.
    var files: [(name: String, bytes: [UInt8])] = []

    static let maxParts = 256

    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    /// The boundary of a `multipart/form-data` content type, or `nil` for another type.
    static func boundary(of contentType: String) -> String? {
        let parts = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.first?.lowercased() == "multipart/form-data" else { return nil }
        for parameter in parts.dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, pair[0].lowercased() == "boundary" else { continue }
            var value = pair[1]
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return value
        }
        return ""
    }

    init(_ body: [UInt8], boundary: String) throws(Problem) {
        guard (1...70).contains(boundary.utf8.count) else { throw Problem(description: "the multipart boundary must be 1 to 70 characters") }
        let delimiter = Array("--\(boundary)".utf8)
        let newline: [UInt8] = [13, 10]
        guard var cursor = Self.find(delimiter, in: body, from: 0) else {
            throw Problem(description: "the body does not contain the boundary \(boundary)")
        }
        var unnamed = 0
        while true {
            cursor += delimiter.count
            if body[cursor...].starts(with: [45, 45]) { break }  // "--": the closing delimiter
            guard body[cursor...].starts(with: newline) else { throw Problem(description: "a boundary must end its line") }
            cursor += 2
            guard let headerEnd = Self.find(newline + newline, in: body, from: cursor) else {
                throw Problem(description: "a part's headers do not end")
            }
            let headers = String(decoding: body[cursor..<headerEnd], as: UTF8.self)
            let contentStart = headerEnd + 4
            guard let next = Self.find(newline + delimiter, in: body, from: contentStart) else {
                throw Problem(description: "the body does not end with the closing boundary")
            }
            let content = Array(body[contentStart..<next])
            guard fields.count + files.count < Self.maxParts else { throw Problem(description: "more than \(Self.maxParts) parts") }
            let (name, filename) = try Self.disposition(headers)
            if let filename {
                unnamed += 1
                files.append((filename.isEmpty ? "blob\(unnamed)" : filename, content))
            } else {
                fields[name] = content
            }
            cursor = next + 2
        }
    }

    /// The `name` and `filename` of a part's `Content-Disposition: form-data` header.
    private static func disposition(_ headers: String) throws(Problem) -> (String, String?) {
        for line in headers.split(separator: "\r\n") {
            guard let colon = line.firstIndex(of: ":"), line[..<colon].lowercased() == "content-disposition" else { continue }
            let parameters = line[line.index(after: colon)...].split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard parameters.first?.lowercased() == "form-data" else { break }
            var name: String?
            var filename: String?
            for parameter in parameters.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map(String.init)
                guard pair.count == 2 else { continue }
                var value = pair[1]
                if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
                switch pair[0].lowercased() {
                case "name": name = value
                case "filename": filename = value
                default: break
                }
            }
            guard let name else { break }
            return (name, filename)
        }
        throw Problem(description: "a part has no Content-Disposition: form-data header with a name")
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        var index = start
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == needle[0] && haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}
