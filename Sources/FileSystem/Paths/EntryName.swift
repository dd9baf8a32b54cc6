/// The rules for a directory entry's name, chosen so that every name can be written
/// in a path: not empty, at most `maxNameBytes` UTF-8 bytes, no `:` (the path
/// separator), no control characters, not `~` or `%` (path shorthands) and not
/// `<…>` (a facet in a path).
enum EntryName {
    static func validate(_ name: String, limits: FileSystemLimits) throws(FSError) {
        guard !name.isEmpty else { throw .badName("a name cannot be empty") }
        guard name.utf8.count <= limits.maxNameBytes else {
            throw .limitExceeded("name length in bytes", limit: limits.maxNameBytes)
        }
        if name.utf8.contains(UInt8(ascii: ":")) { throw .badName("'\(name)' contains ':', the path separator") }
        if name.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
            throw .badName("'\(name.debugDescription)' contains a control character")
        }
        if name == "~" || name == "%" { throw .badName("'\(name)' is a path shorthand, not a name") }
        if name.hasPrefix("<") && name.hasSuffix(">") {
            throw .badName("'\(name)' would read as a facet in a path")
        }
    }
}
