import JSONValues
import Labels
import NIOHTTP1

/// Whether others may unlink or replace what was just created or linked: they may when
/// its parent directory's label has integrity `T`, because then anyone whose context may
/// read the directory may also modify it (the public facet `home:<T,T>` is such a place).
/// The advice is the creator's integrity facet `home:<T,NAME>`, where only NAME may.
///
/// ```swift
/// ParentIntegrity.parent(of: "home:<T,T>:app")  // "home:<T,T>"
/// ParentIntegrity.warning(for: "home:<T,T>:app", parentLabel: "T,T", principal: "carol")
/// // ["warning: anyone who may read home:<T,T> may unlink or replace home:<T,T>:app (its label T,T has integrity T)",
/// //  "put it in your integrity facet, where only carol may change it: home:<T,carol>:app with --label T,carol"]
/// ```
public enum ParentIntegrity {
    /// The parent of a path that ends in a name: the text before its last `:` (a name
    /// holds no `:`, though a facet's label may); `nil` for a path of one name.
    public static func parent(of path: String) -> String? {
        split(path)?.parent
    }

    /// The warning lines for an object at `path` whose parent has `parentLabel`; none if the
    /// parent's integrity is not `T` (or it has no label of its own, as a faceted directory).
    public static func warning(for path: String, parentLabel: String?, principal: String?) -> [String] {
        guard let (parent, name) = split(path), let parentLabel, let label = try? Label(parsing: parentLabel), label.integrity.isTrue
        else { return [] }
        let owner = principal ?? "NAME"
        return [
            "warning: anyone who may read \(parent) may unlink or replace \(path) (its label \(parentLabel) has integrity T)",
            "put it in your integrity facet, where only \(owner) may change it: home:<T,\(owner)>:\(name) with --label T,\(owner)",
        ]
    }

    private static func split(_ path: String) -> (parent: String, name: String)? {
        guard let colon = path.lastIndex(of: ":"), colon != path.startIndex else { return nil }
        return (String(path[..<colon]), String(path[path.index(after: colon)...]))
    }

    /// Asks the server for the label of `path`'s parent (`GET /v1/fs/{parent}`) and returns
    /// the warning. Never fails: if the parent cannot be read, there is no warning.
    public static func check(_ path: String, connection: Connection) async -> [String] {
        guard let parent = parent(of: path),
            let response = try? await connection.send(APIRequest(.GET, fs: parent)), response.isSuccess,
            let object = try? response.json()
        else { return [] }
        return warning(for: path, parentLabel: object["label"]?.string, principal: await connection.currentSession?.principal)
    }
}
