/// The forms an id may take before it is trusted in a URL path or a reference (see `Snapshot.load`).
///
/// Graph calls ids opaque (user.md), but every id Lifeboat puts into a path has a known shape: directory objects,
/// role definitions (built-in ones keep their template GUID), named locations and Conditional Access policies have GUIDs;
/// a domain's id is its fully qualified name (domain.md); app role assignments, OAuth2 grants and role assignments have
/// URL-safe keys (base64url characters, as in approleassignment.md and oauth2permissiongrant.md). Anything else —
/// `../../beta/users/x`, a `?`, a space — is refused where it is loaded, naming the file and the object.
package enum IDForm {
    /// `true` for a GUID in its 8-4-4-4-12 hexadecimal form (either case).
    package static func isGUID(_ text: String) -> Bool {
        let utf8 = Array(text.utf8)
        guard utf8.count == 36 else { return false }
        for (index, byte) in utf8.enumerated() {
            if index == 8 || index == 13 || index == 18 || index == 23 {
                guard byte == UInt8(ascii: "-") else { return false }
            } else {
                guard isHex(byte) else { return false }
            }
        }
        return true
    }

    /// `true` for a fully qualified domain name: labels of letters, digits and inner hyphens, at most 253 characters.
    package static func isDomainName(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 253 else { return false }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return false }
        return labels.allSatisfy { label in
            let bytes = Array(label.utf8)
            guard (1...63).contains(bytes.count), bytes.first != UInt8(ascii: "-"), bytes.last != UInt8(ascii: "-") else { return false }
            return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") }
        }
    }

    /// `true` for a URL-safe key (base64url characters), as Graph gives assignments and grants.
    package static func isKey(_ text: String) -> Bool {
        (1...256).contains(text.utf8.count)
            && text.utf8.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }

    /// `true` for a role assignment's scope: `/`, `/{GUID}` (an application) or `/administrativeUnits/{GUID}`.
    package static func isDirectoryScope(_ text: String) -> Bool {
        if text == "/" { return true }
        if text.hasPrefix("/administrativeUnits/") { return isGUID(String(text.dropFirst("/administrativeUnits/".count))) }
        return text.hasPrefix("/") && isGUID(String(text.dropFirst()))
    }

    /// What an object's own id must look like, by type.
    package static func describe(_ type: ObjectType) -> String {
        switch type {
        case .domain: return "a domain name (e.g. contoso.com)"
        case .appRoleAssignment, .oauth2PermissionGrant, .roleAssignment: return "a GUID or a URL-safe key (letters, digits, '-', '_')"
        default: return "a GUID (8-4-4-4-12 hexadecimal digits)"
        }
    }

    /// `true` when `id` has the form an object of `type` must have.
    package static func isValid(_ id: String, for type: ObjectType) -> Bool {
        switch type {
        case .domain: return isDomainName(id)
        case .appRoleAssignment, .oauth2PermissionGrant, .roleAssignment: return isGUID(id) || isKey(id)
        default: return isGUID(id)
        }
    }

    private static func isHex(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }
}

extension Snapshot {
    /// The id and every id-valued reference of an object, checked against ``IDForm``: the field and what it must be.
    static func idProblem(_ object: any DirectoryObject, _ type: ObjectType) -> PropertyProblem? {
        if !IDForm.isValid(object.id, for: type) {
            return PropertyProblem(field: "id", problem: "\"\(printable(object.id))\" is not \(IDForm.describe(type))")
        }
        func guid(_ field: String, _ value: String?) -> PropertyProblem? {
            guard let value, !IDForm.isGUID(value) else { return nil }
            return PropertyProblem(field: field, problem: "\"\(printable(value))\" is not a GUID (8-4-4-4-12 hexadecimal digits)")
        }
        func references(_ field: String, _ list: [DirectoryReference]) -> PropertyProblem? {
            for (index, reference) in list.enumerated() {
                if let problem = guid("\(field)[\(index)].id", reference.id) { return problem }
            }
            return nil
        }
        switch object {
        case let user as User: return guid("manager.id", user.manager?.id)
        case let group as Group: return references("members", group.members) ?? references("owners", group.owners)
        case let unit as AdministrativeUnit: return references("members", unit.members)
        case let application as Application: return guid("appId", application.appId)
        case let principal as ServicePrincipal: return guid("appId", principal.appId)
        case let assignment as AppRoleAssignment:
            return guid("principalId", assignment.principalId) ?? guid("resourceId", assignment.resourceId)
                ?? guid("appRoleId", assignment.appRoleId)
        case let grant as OAuth2PermissionGrant:
            return guid("clientId", grant.clientId) ?? guid("resourceId", grant.resourceId) ?? guid("principalId", grant.principalId)
        case let assignment as RoleAssignment:
            if let problem = guid("roleDefinitionId", assignment.roleDefinitionId) ?? guid("principalId", assignment.principalId) {
                return problem
            }
            guard IDForm.isDirectoryScope(assignment.directoryScopeId) else {
                return PropertyProblem(
                    field: "directoryScopeId",
                    problem: "\"\(printable(assignment.directoryScopeId))\" is not /, /{GUID} or /administrativeUnits/{GUID}")
            }
            return nil
        default: return nil
        }
    }

    /// A value as an error message shows it: control characters escaped, at most 80 characters.
    static func printable(_ text: String) -> String {
        let escaped = text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "\\u{\(String($0.value, radix: 16))}" : String($0) }
            .joined()
        return escaped.count > 80 ? String(escaped.prefix(80)) + "…" : escaped
    }
}
