import ArgumentParser
import Foundation
import LifeboatCurl
import LifeboatFakeTenant
import LifeboatGraph
import LifeboatJSON

/// Which fake tenant an operator command acts on: a running `fake-tenant serve` (`--url`) or a stopped one's state file.
struct FakeTenantLocation: ParsableArguments {
    @Option(help: ArgumentHelp("A running `lifeboat fake-tenant serve`: http://127.0.0.1:PORT.", valueName: "url"))
    var url: String?

    @Option(
        help: ArgumentHelp(
            "The state file of a fake tenant that is not being served (tabletop's <state>.fake-tenant.sqlite, or serve --state).",
            valueName: "path"))
    var state: String?

    @Option(
        help: ArgumentHelp(
            "With --url: the file holding the served fake's operator token (default: the one `serve` wrote and names at /_lifeboat/health).",
            valueName: "path"))
    var operatorTokenFile: String?

    func validate() throws {
        guard (url == nil) != (state == nil) else {
            throw ValidationError("give exactly one of --url (a served fake tenant) or --state (its state file)")
        }
        if let url {
            guard let host = URLComponents(string: url)?.host, CurlTransport.isLoopback(host: host) else {
                throw ValidationError("--url must be a loopback address: the fake tenant is only served on this machine")
            }
        }
        if let state, !FileManager.default.fileExists(atPath: state) {
            throw ValidationError("--state \(state) does not exist")
        }
    }

    /// Calls the served operator API and returns its JSON answer.
    func call(_ method: String, _ endpoint: String, body: JSONObject? = nil) async throws -> JSONObject {
        let token = try await ServedFake.operatorToken(root: url!, file: operatorTokenFile)
        return try await ServedFake.call(root: url!, method, endpoint, body: body, token: token)
    }

    /// Opens the stopped fake tenant's state file.
    func open() throws -> FakeTenant {
        try FakeTenant(stateFile: state!)
    }
}

extension FakeTenantCommand {
    /// `lifeboat fake-tenant delete`: break the fake tenant for an in-place rehearsal.
    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete objects from a fake tenant, as an attacker or a botched script would (soft where Graph soft-deletes).",
            discussion: """
                Users, Microsoft 365 groups, applications, service principals and administrative units go to the recycle bin
                (restorable for 30 days); security groups, Conditional Access policies, named locations, role assignments and
                grants are gone for good, as in Graph. --purge empties them from the recycle bin too; --deleted-days-ago
                backdates the deletion (31 or more: past the recycle-bin window).
                Example: lifeboat fake-tenant delete --url http://127.0.0.1:8080 --type users --where "department eq 'Finance'"
                """)

        @OptionGroup var location: FakeTenantLocation

        @Option(
            help:
                "The collection: users, groups, applications, servicePrincipals, administrativeUnits, namedLocations, conditionalAccessPolicies, roleDefinitions, roleAssignments, oauth2PermissionGrants, domains."
        )
        var type: String

        @Option(help: ArgumentHelp("An OData $filter choosing the objects (default: every object of the type).", valueName: "filter"))
        var `where`: String?

        @Flag(help: "Delete for good: nothing goes to the recycle bin.")
        var purge = false

        @Option(help: "Backdate the deletion by this many days.")
        var deletedDaysAgo: Double = 0

        func validate() throws {
            guard FakeTenant.operatorCollections[type] != nil else {
                throw ValidationError("--type must be one of \(FakeTenant.operatorCollections.keys.sorted().joined(separator: ", "))")
            }
            guard deletedDaysAgo >= 0, deletedDaysAgo <= 3650 else {
                throw ValidationError("--deleted-days-ago must be between 0 and 3650")
            }
        }

        func run() async throws {
            var deleted: [(id: String, name: String, recoverable: Bool)] = []
            do {
                if location.url != nil {
                    var body: JSONObject = ["collection": .string(type), "purge": .bool(purge), "deletedDaysAgo": .number(deletedDaysAgo)]
                    if let filter = self.where { body["filter"] = .string(filter) }
                    let answer = try await location.call("POST", "delete", body: body)
                    for item in answer["deleted"]?.arrayValue ?? [] {
                        deleted.append(
                            (item["id"]?.stringValue ?? "", item["displayName"]?.stringValue ?? "", item["recoverable"]?.boolValue ?? false)
                        )
                    }
                } else {
                    let tenant = try location.open()
                    deleted = try await tenant.delete(collection: type, where: self.where, purge: purge, deletedDaysAgo: deletedDaysAgo)
                        .map { ($0.id, $0.displayName, $0.recoverable) }
                }
            } catch {
                printError("lifeboat: \(error)")
                throw ExitStatus.invalidInput
            }
            for item in deleted {
                print("\(item.recoverable ? "recycle bin" : "gone      ")  \(item.id)  \(item.name)")
            }
            let soft = deleted.filter(\.recoverable).count
            print("Deleted \(deleted.count) \(type): \(soft) in the recycle bin, \(deleted.count - soft) gone for good.")
        }
    }

    /// `lifeboat fake-tenant publish-dns`: the DNS change a domain verification waits for.
    struct PublishDNS: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "publish-dns",
            abstract: "Publish a domain's verification TXT record in the fake tenant's simulated DNS, so domains.verify succeeds.")

        @OptionGroup var location: FakeTenantLocation

        @Option(help: "The custom domain, e.g. contoso.com (may be published before the domain is added).")
        var domain: String

        func run() async throws {
            do {
                if location.url != nil {
                    _ = try await location.call("POST", "dns", body: ["domain": .string(domain)])
                } else {
                    try await location.open().publishDNSRecord(for: domain)
                }
            } catch {
                printError("lifeboat: \(error)")
                throw ExitStatus.invalidInput
            }
            print("Published the verification TXT record of \(domain.lowercased()).")
        }
    }

    /// `lifeboat fake-tenant inspect`: what the fake tenant holds.
    struct Inspect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Count a fake tenant's objects per collection, live and in the recycle bin.")

        @OptionGroup var location: FakeTenantLocation

        func run() async throws {
            var rows: [(String, Int, Int)] = []
            do {
                if location.url != nil {
                    let answer = try await location.call("GET", "census")
                    for (name, counts) in answer["collections"]?.objectValue ?? [:] {
                        rows.append((name, Int(counts["live"]?.numberValue ?? 0), Int(counts["deleted"]?.numberValue ?? 0)))
                    }
                } else {
                    rows = try await location.open().census().map { ($0.collection, $0.live, $0.deleted) }
                }
            } catch {
                printError("lifeboat: \(error)")
                throw ExitStatus.invalidInput
            }
            print("Collection                   Live  Recycle bin")
            for (name, live, deleted) in rows.sorted(by: { $0.0 < $1.0 }) {
                print(
                    "\(name.padding(toLength: 26, withPad: " ", startingAt: 0)) \(String(format: "%6d", live))  \(String(format: "%11d", deleted))"
                )
            }
        }
    }
}
