import Foundation
import JSONValues

/// Where `fstn` keeps its files and which server it talks to.
///
/// Files live in `$XDG_CONFIG_HOME/fstn` (default `~/.config/fstn`): `config.json`
/// (written by hand, e.g. `{"server": "https://faasten.example"}`) and
/// `credentials.json` (written by `fstn login`).
public struct Configuration: Sendable {
    /// The server used when nothing else names one.
    public static let defaultServer = "http://127.0.0.1:8080"

    /// The `fstn` directory under the XDG config directory.
    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    /// The directory the environment names: `$XDG_CONFIG_HOME/fstn`, else `$HOME/.config/fstn`.
    public init(environment: [String: String]) {
        // An empty or relative XDG_CONFIG_HOME is to be ignored (XDG Base Directory spec).
        let base: String
        if let xdg = environment["XDG_CONFIG_HOME"], xdg.hasPrefix("/") {
            base = xdg
        } else {
            let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
            base = home + "/.config"
        }
        self.init(directory: URL(fileURLWithPath: base).appendingPathComponent("fstn"))
    }

    public var configFile: URL { directory.appendingPathComponent("config.json") }
    public var credentialsFile: URL { directory.appendingPathComponent("credentials.json") }

    /// The `server` named in `config.json`; `nil` when the file or the key is absent.
    public func configuredServer() throws(FstnError) -> String? {
        guard let data = FileManager.default.contents(atPath: configFile.path) else { return nil }
        let value: JSONValue
        do {
            value = try JSONValue(decoding: data)
        } catch {
            throw FstnError("\(configFile.path) is not valid JSON: \(error)", next: "fix or remove that file")
        }
        return value["server"]?.string
    }

    /// The server to use: `--server`, else `$FSTN_SERVER`, else `server` in `config.json`,
    /// else ``defaultServer``; normalized (no trailing slash) and checked to be http(s).
    public func server(option: String?, environment: [String: String]) throws(FstnError) -> String {
        let chosen: String
        if let option, !option.isEmpty {
            chosen = option
        } else if let variable = environment["FSTN_SERVER"], !variable.isEmpty {
            chosen = variable
        } else if let configured = try configuredServer(), !configured.isEmpty {
            chosen = configured
        } else {
            chosen = Self.defaultServer
        }
        return try Self.normalize(server: chosen)
    }

    /// `http(s)://host[:port][/prefix]` without a trailing slash: the key credentials are saved under.
    public static func normalize(server text: String) throws(FstnError) -> String {
        var server = text
        while server.hasSuffix("/") { server.removeLast() }
        guard let url = URL(string: server), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            url.host != nil, url.query == nil, url.fragment == nil
        else {
            throw FstnError(
                "invalid server URL '\(text)'",
                next: "give one such as http://127.0.0.1:8080 with --server, FSTN_SERVER or `server` in config.json")
        }
        return server
    }
}
