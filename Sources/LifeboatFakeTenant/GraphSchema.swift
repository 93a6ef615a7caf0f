import Foundation
import LifeboatJSON

/// The property names and types of the Graph v1.0 types Lifeboat writes, from Microsoft's published
/// CSDL (`Scripts/generate-graph-schema.py` writes `Resources/graph-schema.json` from it).
///
/// The fake tenant uses it to answer an unknown property the way Graph does:
/// 400 `Request_BadRequest`, `Property 'favouriteColour' does not exist on type 'microsoft.graph.user'.`
package struct GraphSchema: Sendable {
    /// One entity or complex type, with its base types' properties already merged in.
    package struct TypeDefinition: Sendable, Hashable, Decodable {
        /// `entity` or `complex`.
        package var kind: String
        /// The direct base type (short name), for reading; ``properties`` already include its properties.
        package var baseType: String?
        /// An OData open type: directory extension properties (`extension_<appId>_<name>`) are accepted.
        package var open: Bool
        /// Only derived types can be instantiated (`ipRange` → `iPv4CidrRange`).
        package var abstract: Bool
        /// Structural property → type, e.g. `passwordProfile` → `graph.passwordProfile`, `appRoles` → `Collection(graph.appRole)`.
        package var properties: [String: String]
        /// Navigation property → type, e.g. `members` → `Collection(graph.directoryObject)`.
        package var navigation: [String: String]
        /// Navigation properties that contain their targets (`includeTargets`): written inline, unlike references.
        package var contained: [String]?
    }

    /// An enum type's members; a flags enum takes several, comma-separated.
    package struct EnumDefinition: Sendable, Hashable, Decodable {
        package var members: [String]
        package var flags: Bool
    }

    /// Types by short name (`user`, `passwordProfile`, `oAuth2PermissionGrant`).
    package let types: [String: TypeDefinition]
    /// Every type derived (transitively) from a type, by short name.
    package let derivedTypes: [String: [String]]
    /// Enum types by short name (`conditionalAccessPolicyState`), for the enum properties of the included types.
    package let enums: [String: EnumDefinition]
    private let lowercasedNames: [String: String]
    /// Types by their `@odata.type` annotation (`#microsoft.graph.user`), which every listed object carries.
    private let annotatedTypes: [String: TypeDefinition]
    /// Per type, what a body of it is checked against, worked out once rather than per request.
    private let checked: [String: CheckedType]
    /// Per property type as the CSDL spells it (`Collection(graph.appRole)`), what it holds.
    private let propertyTypes: [String: PropertyType]

    /// A type's definition alone, and with every type derived from it (an abstract type without `@odata.type`).
    private struct CheckedType {
        var alone: [TypeDefinition]
        var withDerived: [TypeDefinition]
    }

    /// What a property type holds: its element type's short name, the complex type it nests (if any), the complex or
    /// entity type it nests (if any) and the enum it takes values of (if any).
    private struct PropertyType {
        var element: String
        var complex: String?
        var complexOrEntity: String?
        var enumeration: EnumDefinition?
    }

    private struct Document: Decodable {
        var types: [String: TypeDefinition]
        var derivedTypes: [String: [String]]
        var enums: [String: EnumDefinition]?
    }

    /// Reads a schema document in the format `Scripts/generate-graph-schema.py` writes.
    package init(data: Data) throws {
        let document = try JSONDecoder().decode(Document.self, from: data)
        types = document.types
        derivedTypes = document.derivedTypes
        enums = document.enums ?? [:]
        lowercasedNames = Dictionary(document.types.keys.map { ($0.lowercased(), $0) }, uniquingKeysWith: { first, _ in first })
        let types = document.types, derivedTypes = document.derivedTypes, enums = document.enums ?? [:]
        var checked: [String: CheckedType] = [:]
        for (name, definition) in types {
            let derived = definition.abstract ? (derivedTypes[name] ?? []).compactMap { types[$0] } : []
            checked[name] = CheckedType(alone: [definition], withDerived: [definition] + derived)
        }
        self.checked = checked
        annotatedTypes = Dictionary(uniqueKeysWithValues: types.map { ("#microsoft.graph.\($0.key)", $0.value) })
        var propertyTypes: [String: PropertyType] = [:]
        for definition in types.values {
            for spelled in Array(definition.properties.values) + Array(definition.navigation.values) where propertyTypes[spelled] == nil {
                propertyTypes[spelled] = Self.propertyType(spelled, types: types, enums: enums)
            }
        }
        self.propertyTypes = propertyTypes
    }

    private static func propertyType(_ spelled: String, types: [String: TypeDefinition], enums: [String: EnumDefinition]) -> PropertyType {
        var inner = Substring(spelled)
        if inner.hasPrefix("Collection("), inner.hasSuffix(")") { inner = inner.dropFirst("Collection(".count).dropLast() }
        let qualified = inner.hasPrefix("graph.")
        let element = qualified ? String(inner.dropFirst("graph.".count)) : String(inner)
        return PropertyType(
            element: element, complex: qualified && types[element]?.kind == "complex" ? element : nil,
            complexOrEntity: types[element] != nil ? element : nil, enumeration: enums[element])
    }

    private func propertyFacts(_ spelled: String) -> PropertyType {
        propertyTypes[spelled] ?? Self.propertyType(spelled, types: types, enums: enums)
    }

    /// The schema shipped with Lifeboat (Graph v1.0), compiled into the binary (``FakeTenantResources``).
    package static let v1: GraphSchema = {
        guard let text = FakeTenantResources.files["Resources/graph-schema.json"], let schema = try? GraphSchema(data: Data(text.utf8))
        else {
            // The file is compiled in; without it the fake tenant cannot check bodies at all.
            fatalError("Resources/graph-schema.json is missing from FakeTenantResources; run Scripts/embed-resources.py and rebuild")
        }
        return schema
    }()

    /// The definition of a type named `user`, `graph.user`, `microsoft.graph.user` or `#microsoft.graph.user`
    /// (an exact match first, then case-insensitively: `oauth2PermissionGrant` finds `oAuth2PermissionGrant`).
    package func type(named name: String) -> TypeDefinition? {
        if let definition = annotatedTypes[name] { return definition }
        guard let short = shortName(name) else { return nil }
        return types[short]
    }

    /// The canonical short name of a type in the schema, or `nil` when the schema does not hold it.
    package func shortName(_ name: String) -> String? {
        var short = Substring(name)
        if short.hasPrefix("#") { short = short.dropFirst() }
        if short.hasPrefix("microsoft.graph.") {
            short = short.dropFirst("microsoft.graph.".count)
        } else if short.hasPrefix("graph.") {
            short = short.dropFirst("graph.".count)
        }
        let candidate = String(short)
        if types[candidate] != nil { return candidate }
        return lowercasedNames[candidate.lowercased()]
    }

    /// A body property Graph would refuse.
    package struct Violation: Sendable, Hashable, CustomStringConvertible {
        package enum Kind: Sendable, Hashable {
            /// The type has no such property (or no such navigation property for `name@odata.bind`).
            case unknownProperty
            /// `@odata.type` names a type that is neither the expected type nor derived from it.
            case unknownType
        }

        package var kind: Kind
        /// Where in the body, e.g. `favouriteColour`, `passwordProfile.colour`, `ipRanges[1].mask`, `ipRanges[0].@odata.type`.
        package var path: String
        /// The offending property name (or, for ``Kind/unknownType``, the type name as sent).
        package var name: String
        /// The short name of the type it was checked against (`user`, `passwordProfile`).
        package var typeName: String

        /// Graph's error message for this violation.
        package var message: String {
            switch kind {
            case .unknownProperty:
                return "Property '\(name)' does not exist on type 'microsoft.graph.\(typeName)'."
            case .unknownType:
                return
                    "A type named '\(name)' could not be resolved by the model. When a model is available, each type name must resolve to a valid type."
            }
        }

        package var description: String { "\(path): \(message)" }
    }

    /// The paths of the properties in `body` that `type` (and the complex types it nests) does not have.
    ///
    /// `@odata.type` and other instance annotations are ignored, `name@odata.bind` is accepted for a
    /// navigation property `name`, and on open types `extension_<appId>_<name>` properties are accepted.
    /// An unknown `type` yields no violations (nothing to check against).
    package func unknownProperties(in body: JSONObject, of type: String) -> [String] {
        violations(in: body, of: type).map(\.path)
    }

    /// Every property (and `@odata.type`) in `body` that Graph would refuse for `type`, in a stable order.
    package func violations(in body: JSONObject, of type: String) -> [Violation] {
        guard let short = shortName(type) else { return [] }
        var found: [Violation] = []
        // Most bodies are valid: a first pass in any order stops at the first violation; only then are all of them
        // collected in key order.
        check(body, declared: short, path: "", ordered: false, into: &found)
        guard !found.isEmpty else { return [] }
        found = []
        check(body, declared: short, path: "", ordered: true, into: &found)
        return found
    }

    /// The message Graph gives for an unknown property on a type (`user`, `passwordProfile`, …).
    package static func unknownPropertyMessage(_ property: String, onType type: String) -> String {
        Violation(kind: .unknownProperty, path: property, name: property, typeName: type).message
    }

    // MARK: - Checking

    private func check(_ object: JSONObject, declared: String, path: String, ordered: Bool, into found: inout [Violation]) {
        // A value may name a derived type: `{"@odata.type": "#microsoft.graph.iPv4CidrRange", …}` where `ipRange` is declared.
        var typeName = declared
        if let sent = object["@odata.type"]?.stringValue {
            if let actual = shortName(sent), actual == declared || derivedTypes[declared]?.contains(actual) == true {
                typeName = actual
            } else {
                found.append(Violation(kind: .unknownType, path: join(path, "@odata.type"), name: sent, typeName: declared))
                return
            }
        }
        guard let checkedType = checked[typeName] else { return }
        let definition = checkedType.alone[0]
        // An abstract type without @odata.type: accept what any of its derived types has.
        let candidates = definition.abstract && typeName == declared ? checkedType.withDerived : checkedType.alone

        for key in ordered ? object.keys.sorted() : Array(object.keys) {
            if !ordered, !found.isEmpty { return }
            let value = object[key]!
            if key.hasPrefix("@") { continue }  // instance annotations: @odata.type, @odata.id, @microsoft.graph.*
            if let at = key.firstIndex(of: "@") {
                let property = String(key[..<at]), annotation = key[key.index(after: at)...]
                let known =
                    annotation == "odata.bind"
                    ? candidates.contains { $0.navigation[property] != nil }
                    : candidates.contains { $0.properties[property] != nil || $0.navigation[property] != nil }
                if !known { found.append(Violation(kind: .unknownProperty, path: join(path, key), name: property, typeName: typeName)) }
                continue
            }
            guard let propertyType = candidates.lazy.compactMap({ $0.properties[key] ?? $0.navigation[key] }).first else {
                if definition.open, Self.isExtensionProperty(key) { continue }
                found.append(Violation(kind: .unknownProperty, path: join(path, key), name: key, typeName: typeName))
                continue
            }
            guard let nested = propertyFacts(propertyType).complex else { continue }
            switch value {
            case .object(let inner):
                check(inner, declared: nested, path: join(path, key), ordered: ordered, into: &found)
            case .array(let elements):
                for (index, element) in elements.enumerated() {
                    if case .object(let inner) = element {
                        check(inner, declared: nested, path: join(path, key) + "[\(index)]", ordered: ordered, into: &found)
                    }
                }
            default:
                continue
            }
        }
    }

    private func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// `extension_<32 hex digits>_<name>`: a directory schema extension registered by an application.
    static func isExtensionProperty(_ name: String) -> Bool {
        let parts = name.split(separator: "_", maxSplits: 2, omittingEmptySubsequences: false)
        return parts.count == 3 && parts[0] == "extension" && parts[1].count == 32 && parts[1].allSatisfy(\.isHexDigit) && !parts[2].isEmpty
    }
}

extension GraphSchema {
    /// A value Graph would refuse that is not an unknown property: an enum value outside its type, a navigation property
    /// written inline, or an annotation nested inside the body.
    package struct ValueViolation: Sendable, Hashable, CustomStringConvertible {
        package enum Kind: Sendable, Hashable { case enumValue, navigationProperty, nestedAnnotation }
        package var kind: Kind
        /// Where in the body, e.g. `state`, `grantControls.authenticationStrength`.
        package var path: String
        package var message: String
        package var description: String { "\(path): \(message)" }
    }

    /// Enum values outside the CSDL's members, navigation properties given inline (other than a bare `{"id": …}` reference
    /// or a containment navigation property), and `name@odata.*` annotations other than `@odata.bind` or any `@odata.*`
    /// annotation except `@odata.type`/`@odata.id` below the top level.
    package func valueViolations(in body: JSONObject, of type: String) -> [ValueViolation] {
        guard let short = shortName(type) else { return [] }
        var found: [ValueViolation] = []
        checkValues(body, declared: short, path: "", top: true, ordered: false, into: &found)
        guard !found.isEmpty else { return [] }
        found = []
        checkValues(body, declared: short, path: "", top: true, ordered: true, into: &found)
        return found
    }

    private func checkValues(
        _ object: JSONObject, declared: String, path: String, top: Bool, ordered: Bool, into found: inout [ValueViolation]
    ) {
        var typeName = declared
        if let sent = object["@odata.type"]?.stringValue, let actual = shortName(sent) { typeName = actual }
        guard let candidates = checked[typeName]?.withDerived else { return }
        func place(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
        for key in ordered ? object.keys.sorted() : Array(object.keys) {
            if !ordered, !found.isEmpty { return }
            let value = object[key]!
            if key.hasPrefix("@") {
                if !top, key != "@odata.type", key != "@odata.id" {
                    found.append(
                        ValueViolation(
                            kind: .nestedAnnotation, path: place(key),
                            message: "The annotation '\(key)' is not allowed inside a request body's nested object."))
                }
                continue
            }
            if let at = key.firstIndex(of: "@") {
                let annotation = key[key.index(after: at)...]
                if annotation != "odata.bind" {
                    found.append(
                        ValueViolation(
                            kind: .nestedAnnotation, path: place(key),
                            message: "The property annotation '\(key)' is not allowed in a request body."))
                }
                continue
            }
            if let navigation = candidates.lazy.compactMap({ $0.navigation[key] }).first {
                // A containment navigation property of an entity is written inline (TAP `includeTargets`); on a complex type
                // (CA `grantControls.authenticationStrength`) it is only referenced by id (hostile choice, Docs/fake-tenant.md).
                let contained = candidates.contains { $0.kind == "entity" && $0.contained?.contains(key) == true }
                if !contained, !Self.isReference(value) {
                    found.append(
                        ValueViolation(
                            kind: .navigationProperty, path: place(key),
                            message:
                                "Navigation property '\(key)' cannot be written inline; reference it by id or with '\(key)@odata.bind'."))
                } else if contained, let element = propertyFacts(navigation).complexOrEntity {
                    for (index, inner) in Self.objects(in: value).enumerated() {
                        checkValues(
                            inner, declared: element, path: place(key) + (value.arrayValue == nil ? "" : "[\(index)]"), top: false,
                            ordered: ordered, into: &found)
                    }
                }
                continue
            }
            guard let propertyType = candidates.lazy.compactMap({ $0.properties[key] }).first else { continue }
            let held = propertyFacts(propertyType)
            let inner = held.element
            if let enumType = held.enumeration {
                for text in Self.strings(in: value) {
                    let parts = enumType.flags ? text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } : [text]
                    for part in parts where !enumType.members.contains(part) {
                        found.append(
                            ValueViolation(
                                kind: .enumValue, path: place(key),
                                message: "Requested value '\(part)' was not found in enum 'microsoft.graph.\(inner)'."))
                    }
                }
            } else if let element = held.complexOrEntity {
                for (index, nested) in Self.objects(in: value).enumerated() {
                    checkValues(
                        nested, declared: element, path: place(key) + (value.arrayValue == nil ? "" : "[\(index)]"), top: false,
                        ordered: ordered, into: &found)
                }
            }
        }
    }

    private static func objects(in value: JSONValue) -> [JSONObject] {
        if let object = value.objectValue { return [object] }
        return value.arrayValue?.compactMap(\.objectValue) ?? []
    }

    private static func strings(in value: JSONValue) -> [String] {
        if let text = value.stringValue { return [text] }
        return value.arrayValue?.compactMap(\.stringValue) ?? []
    }

    /// `null`, `{"id": "…"}` or an array of such: a reference, not an inline object.
    private static func isReference(_ value: JSONValue) -> Bool {
        if value.isNull { return true }
        if let object = value.objectValue { return object.keys.allSatisfy { $0 == "id" || $0 == "@odata.type" || $0 == "@odata.id" } }
        if let array = value.arrayValue { return array.allSatisfy(isReference) }
        return false
    }

    /// Throws Graph's 400 for the first enum value, inline navigation property or nested annotation Graph would refuse.
    func validateEnums(_ body: JSONObject, as type: String) throws(GraphFailure) {
        guard let first = valueViolations(in: body, of: type).first else { return }
        throw GraphFailure.badRequest(first.message + " (at \(first.path))", code: "BadRequest")
    }

    /// Throws Graph's 400 for the first property of `body` that `type` does not have (for the request handlers).
    func validate(_ body: JSONObject, as type: String) throws(GraphFailure) {
        guard let first = violations(in: body, of: type).first else { return }
        throw GraphFailure.badRequest(first.message, code: first.kind == .unknownProperty ? "Request_BadRequest" : "BadRequest")
    }
}
