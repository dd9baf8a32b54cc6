/// The kinds of labeled objects. The numbers are the original's `DentKind` and are
/// stored in rows: never renumber them.
public enum ObjectKind: Int, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case directory = 0
    case file = 1
    case facetedDirectory = 2
    case gate = 3
    case service = 4
    case blob = 5

    public var description: String {
        switch self {
        case .directory: return "directory"
        case .file: return "file"
        case .facetedDirectory: return "faceted directory"
        case .gate: return "gate"
        case .service: return "service"
        case .blob: return "blob"
        }
    }
}
