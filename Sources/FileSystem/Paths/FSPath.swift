import Labels

/// A path such as `home:<alice,alice>:photos:cat.jpg`.
///
/// Components are separated by single `:`. A component is a name, a facet `<label>`,
/// `%` (the facet of the current label) or, first only, `~` (`home:<P,P>` for the
/// caller's privilege `P`). A path must start with a name (or `~`): the root is a
/// directory, not faceted, and text without a name (empty, or only separators) is
/// refused rather than taken for the root (``root`` is the root's path).
///
/// A facet's label may itself contain `:`; a facet runs from `<` to the first `>`
/// that ends the path or is followed by `:`.
public struct FSPath: Sendable, Hashable, CustomStringConvertible {
    public enum Component: Sendable, Hashable {
        case name(String)
        case facet(Label)
        /// `%`: the facet equal to the current label when the path is resolved.
        case currentLabelFacet
        /// `~`: `home` and the facet `<P,P>` of the caller's privilege `P`.
        case home
    }

    public let components: [Component]

    public init(_ components: [Component]) {
        self.components = components
    }

    /// The root directory.
    public static let root = FSPath([])

    public init(parsing text: String, limits: FileSystemLimits = .default) throws(FSError) {
        guard text.utf8.count <= limits.maxPathBytes else {
            throw .limitExceeded("path length in bytes", limit: limits.maxPathBytes)
        }
        var rest = Substring(text)
        guard !rest.isEmpty else { throw .badPath("an empty path: a path starts with a name such as home") }
        guard rest.first != ":" else { throw .badPath("'\(text)' starts with ':'; a path starts with a name such as home") }
        guard rest.last != ":" else { throw .badPath("'\(text)' ends with ':'; a path ends with a name or a facet") }
        var components: [Component] = []
        while !rest.isEmpty {
            let piece: Substring
            if rest.first == "<", let end = Self.facetEnd(rest) {
                piece = rest[..<end]
                rest = rest[end...]
            } else if let colon = rest.firstIndex(of: ":") {
                piece = rest[..<colon]
                rest = rest[colon...]
            } else {
                piece = rest
                rest = rest[rest.endIndex...]
            }
            if rest.first == ":" { rest = rest.dropFirst() }
            guard components.count < limits.maxPathComponents else {
                throw .limitExceeded("path components", limit: limits.maxPathComponents)
            }
            components.append(try Self.component(piece, first: components.isEmpty))
        }
        if let first = components.first {
            switch first {
            case .facet, .currentLabelFacet:
                throw .badPath("'\(text)' starts with a facet; a path starts with a name such as home")
            default: break
            }
        }
        self.components = components
    }

    /// The index just past the `>` that closes a facet starting at `text.startIndex`.
    private static func facetEnd(_ text: Substring) -> Substring.Index? {
        var index = text.startIndex
        while let close = text[index...].firstIndex(of: ">") {
            let after = text.index(after: close)
            if after == text.endIndex || text[after] == ":" { return after }
            index = after
        }
        return nil
    }

    private static func component(_ piece: Substring, first: Bool) throws(FSError) -> Component {
        if piece.isEmpty { throw .badPath("empty component (two ':' in a row)") }
        if piece == "~" {
            guard first else { throw .badPath("'~' can only start a path") }
            return .home
        }
        if piece == "%" { return .currentLabelFacet }
        if piece.first == "<" && piece.last == ">" && piece.count >= 2 {
            do {
                return .facet(try Label(parsing: String(piece.dropFirst().dropLast())))
            } catch {
                throw .badPath("facet \(piece): \(error)")
            }
        }
        return .name(String(piece))
    }

    public var description: String {
        components.map { component in
            switch component {
            case let .name(name): return name
            case let .facet(label): return "<\(label)>"
            case .currentLabelFacet: return "%"
            case .home: return "~"
            }
        }.joined(separator: ":")
    }

    /// The path without its last component, and that component's name; `nil` if the
    /// path is empty or ends in a facet.
    public var parentAndName: (FSPath, String)? {
        guard case let .name(name)? = components.last else { return nil }
        return (FSPath(Array(components.dropLast())), name)
    }
}

extension FileSystemSession {
    /// Walks a path from the root: each name reads its directory (taint), each facet
    /// opens a facet of a faceted directory. The last entry is returned unread.
    public func resolve(_ path: FSPath, _ context: inout SecurityContext) throws(FSError) -> Entry {
        var current = try root
        // `%` means the label the walk started at.
        let startLabel = context.label
        for component in path.components {
            switch component {
            case let .name(name):
                guard current.kind == .directory else {
                    throw .badPath("cannot look up '\(name)' in a \(current.kind)")
                }
                current = try lookup(current, name, &context)
            case .home:
                current = try lookup(current, "home", &context)
                let p = context.privilege.component
                current = try facet(of: current, Label(secrecy: p, integrity: p))
            case let .facet(label):
                current = try facet(of: current, label)
            case .currentLabelFacet:
                current = try facet(of: current, startLabel)
            }
        }
        return current
    }

    private func facet(of entry: Entry, _ label: Label) throws(FSError) -> Entry {
        guard entry.kind == .facetedDirectory else { throw .badPath("<\(label)> follows a \(entry.kind), not a faceted directory") }
        return try openFacet(entry, label)
    }
}
