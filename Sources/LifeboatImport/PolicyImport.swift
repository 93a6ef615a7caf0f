import Foundation
import LifeboatJSON
import LifeboatSnapshot

/// Conditional Access references that point at nothing in the import: the conditionalAccess.create
/// stage will leave them out of the restored policy, so they are listed as losses now.
enum PolicyReferenceCheck {
    static let userKeywords: Set<String> = ["All", "None", "GuestsOrExternalUsers"]
    static let applicationKeywords: Set<String> = ["All", "None", "Office365", "MicrosoftAdminPortals"]
    static let locationKeywords: Set<String> = ["All", "AllTrusted"]

    static func record(in tenant: inout ImportedTenant) {
        guard let policies = tenant.collections[.conditionalAccessPolicy], !policies.isEmpty else { return }
        let ids = Set(tenant.typeByID.keys)
        let roles = Set(
            (tenant.collections[.roleDefinition] ?? []).flatMap { [$0.id, $0.properties["templateId"]?.stringValue].compactMap { $0 } })
        let appIds = Set(
            [ObjectType.application, .servicePrincipal].flatMap { tenant.collections[$0] ?? [] }.compactMap {
                $0.properties["appId"]?.stringValue
            })
        let locations = Set((tenant.collections[.namedLocation] ?? []).compactMap(\.id))
        for policy in policies {
            let conditions = policy.properties["conditions"]?.objectValue ?? [:]
            var missing: [String] = []
            func check(_ section: String, _ key: String, keywords: Set<String>, known: Set<String>) {
                for value in conditions[section]?[key]?.stringArray ?? [] where !keywords.contains(value) && !known.contains(value) {
                    missing.append("\(section).\(key) \(value)")
                }
            }
            for key in ["includeUsers", "excludeUsers", "includeGroups", "excludeGroups"] {
                check("users", key, keywords: userKeywords, known: ids)
            }
            for key in ["includeRoles", "excludeRoles"] { check("users", key, keywords: [], known: roles) }
            for key in ["includeApplications", "excludeApplications"] {
                check("applications", key, keywords: applicationKeywords, known: appIds)
            }
            for key in ["includeLocations", "excludeLocations"] { check("locations", key, keywords: locationKeywords, known: locations) }
            guard !missing.isEmpty else { continue }
            tenant.lose(
                .conditionalAccessPolicy, policy.properties, property: "conditions", origin: policy.origin, kind: "unresolved",
                "\(missing.count) reference(s) to objects not in the export (\(missing.prefix(5).joined(separator: ", "))\(missing.count > 5 ? ", …" : "")); they cannot be remapped and will be left out of the restored policy"
            )
        }
    }
}

/// `Get-MgIdentityConditionalAccessPolicy | ConvertTo-Json -Depth N` (and named locations) back into Graph's shape.
///
/// The Microsoft Graph PowerShell SDK names properties in PascalCase (`Conditions.Users.IncludeUsers`) and
/// keeps what its model lacks in `AdditionalProperties` with Graph's own names (`@odata.type`, `ipRanges`).
/// `ConvertTo-Json` without a large enough `-Depth` writes nested objects as their type name.
enum PowerShellJSON {
    /// The objects of a `ConvertTo-Json` file: one object, an array, or a Graph list `{"value": [...]}`.
    static func objects(_ json: JSONValue, file: String) throws(ImportError) -> [JSONObject] {
        let elements: [JSONValue]
        if let array = json.arrayValue {
            elements = array
        } else if let value = json["value"]?.arrayValue ?? json["Value"]?.arrayValue {
            elements = value
        } else if json.objectValue != nil {
            elements = [json]
        } else {
            throw ImportError(file: file, line: 1, problem: "expected a JSON object or an array of objects (ConvertTo-Json output)")
        }
        var result: [JSONObject] = []
        for (index, element) in elements.enumerated() {
            guard case .object(let object) = normalize(element) else {
                throw ImportError(file: file, column: "[\(index)]", problem: "not a JSON object")
            }
            result.append(object)
        }
        return result
    }

    /// Graph's camelCase names, `AdditionalProperties` merged into their object.
    static func normalize(_ value: JSONValue) -> JSONValue {
        switch value {
        case .array(let elements):
            return .array(elements.map(normalize))
        case .object(let object):
            var result: JSONObject = [:]
            for (key, inner) in object where key.caseInsensitiveCompare("AdditionalProperties") != .orderedSame {
                result[graphName(key)] = normalize(inner)
            }
            if let additional = object.first(where: { $0.key.caseInsensitiveCompare("AdditionalProperties") == .orderedSame })?.value
                .objectValue
            {
                for (key, inner) in additional where result[graphName(key)] == nil || result[graphName(key)]?.isNull == true {
                    result[graphName(key)] = normalize(inner)
                }
            }
            return .object(result)
        default:
            return value
        }
    }

    private static let specialNames: [String: String] = [
        "odatatype": "@odata.type", "oauth2permissiongrants": "oauth2PermissionGrants",
        "oauth2permissionscopes": "oauth2PermissionScopes", "oauth2requirepostresponse": "oauth2RequirePostResponse",
    ]

    /// `IncludeUsers` → `includeUsers`, `IPRanges` → `ipRanges`, `ID` → `id`; names starting with `@` are kept.
    static func graphName(_ name: String) -> String {
        if name.hasPrefix("@") { return name }
        if let special = specialNames[name.lowercased().filter { $0.isLetter || $0.isNumber }] { return special }
        let characters = Array(name)
        var leading = 0
        while leading < characters.count, characters[leading].isUppercase { leading += 1 }
        if leading == 0 { return name }
        if leading == characters.count { return name.lowercased() }
        // Keep the last capital of a run when a lower-case letter follows it: `IPRanges` → `ip` + `Ranges`.
        let lower = leading > 1 && characters[leading].isLowercase ? leading - 1 : leading
        return String(characters[..<lower]).lowercased() + String(characters[lower...])
    }

    /// A .NET type name where a value should be: what `Export-Csv` and a too-shallow `ConvertTo-Json` write.
    static func isTypeName(_ text: String) -> Bool {
        let value = text.trimmingCharacters(in: .whitespaces)
        guard !value.isEmpty, !value.contains(" ") || value.hasPrefix("@{") else { return false }
        if value.hasPrefix("@{") && value.hasSuffix("}") { return true }
        guard value.contains(".") else { return false }
        if value.hasPrefix("System.") || value.hasPrefix("Microsoft.") { return true }
        return value.contains("`1[") || value.contains("`2[") || value.hasSuffix("[]")
    }

    /// Fields whose value is a type name instead of an object, as dotted paths.
    static func truncatedFields(_ value: JSONValue, path: String = "") -> [String] {
        switch value {
        case .string(let text): return isTypeName(text) ? [path] : []
        case .array(let elements):
            return elements.enumerated().flatMap { truncatedFields($0.element, path: "\(path)[\($0.offset)]") }
        case .object(let object):
            return object.sorted { $0.key < $1.key }.flatMap {
                truncatedFields($0.value, path: path.isEmpty ? $0.key : "\(path).\($0.key)")
            }
        default: return []
        }
    }

    /// Removes the value at a dotted path (array indexes in brackets are not followed: their parent is removed).
    static func remove(_ path: String, from object: inout JSONObject) {
        let clean = path.split(separator: "[").first.map(String.init) ?? path
        let parts = clean.split(separator: ".").map(String.init)
        func strip(_ object: inout JSONObject, _ parts: ArraySlice<String>) {
            guard let first = parts.first else { return }
            if parts.count == 1 {
                object[first] = nil
                return
            }
            guard case .object(var inner) = object[first] ?? .null else { return }
            strip(&inner, parts.dropFirst())
            object[first] = .object(inner)
        }
        strip(&object, parts[...])
    }
}
