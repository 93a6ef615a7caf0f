import Foundation

/// A Microsoft cloud: its sign-in authority and its Graph endpoint.
package enum GraphCloud: String, Sendable, CaseIterable {
    /// The global service: `login.microsoftonline.com`, `graph.microsoft.com`.
    case global
    /// US Government L4 (GCC High): `login.microsoftonline.us`, `graph.microsoft.us`.
    case usgov
    /// US Government L5 (DoD): `login.microsoftonline.us`, `dod-graph.microsoft.us`.
    case usgovDoD = "usgov-dod"
    /// Microsoft Azure operated by 21Vianet: `login.chinacloudapi.cn`, `microsoftgraph.chinacloudapi.cn`.
    case china

    /// The sign-in authority, without a trailing slash.
    package var authorityURL: String {
        switch self {
        case .global: return "https://login.microsoftonline.com"
        case .usgov, .usgovDoD: return "https://login.microsoftonline.us"
        case .china: return "https://login.chinacloudapi.cn"
        }
    }

    /// The Graph root (no version), without a trailing slash.
    package var graphURL: String {
        switch self {
        case .global: return "https://graph.microsoft.com"
        case .usgov: return "https://graph.microsoft.us"
        case .usgovDoD: return "https://dod-graph.microsoft.us"
        case .china: return "https://microsoftgraph.chinacloudapi.cn"
        }
    }
}

/// Where a live rebuild signs in and sends Graph requests: a cloud, or explicit URLs.
package struct GraphEndpoints: Sendable, Hashable {
    /// The sign-in authority, e.g. `https://login.microsoftonline.com`.
    package var authorityURL: String
    /// The Graph root, e.g. `https://graph.microsoft.com`.
    package var graphURL: String
    /// The API version, `v1.0`.
    package var version: String

    /// The endpoints of a cloud, with optional overrides (`--graph-url`, `--authority-url`).
    package init(cloud: GraphCloud = .global, graphURL: String? = nil, authorityURL: String? = nil, version: String = "v1.0") {
        self.authorityURL = Self.trimmed(authorityURL ?? cloud.authorityURL)
        self.graphURL = Self.trimmed(graphURL ?? cloud.graphURL)
        self.version = version
    }

    /// The version root GraphClient sends to, e.g. `https://graph.microsoft.com/v1.0`.
    package var baseURL: String { graphURL + "/" + version }

    /// The client-credentials scope, e.g. `https://graph.microsoft.com/.default`.
    package var scope: String { graphURL + "/.default" }

    /// The OAuth 2.0 v2 token endpoint of a tenant (id or initial domain).
    package func tokenURL(tenant: String) -> String {
        let encoded =
            tenant.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? tenant
        return "\(authorityURL)/\(encoded)/oauth2/v2.0/token"
    }

    private static func trimmed(_ url: String) -> String {
        var url = url
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }
}
