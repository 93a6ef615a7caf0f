import Foundation
import LifeboatGraph
import LifeboatJSON

/// Licences (`subscribedSkus`, `assignLicense`) and Temporary Access Passes, with Graph's rules:
/// a licence needs the user's `usageLocation`, a SKU the tenant has bought and a free unit; a user holds at most
/// one Temporary Access Pass, whose value is only returned when it is created.
extension FakeTenant {
    /// Adds (or tops up) a subscription, as buying licences would.
    package func addSubscribedSku(skuId: String, skuPartNumber: String, units: Int) throws {
        var skus = subscribedSkus()
        if let index = skus.firstIndex(where: { $0["skuId"]?.stringValue?.lowercased() == skuId.lowercased() }) {
            let enabled = skus[index]["prepaidUnits"]?["enabled"]?.numberValue ?? 0
            skus[index]["prepaidUnits"] = ["enabled": .number(enabled + Double(units)), "suspended": 0, "warning": 0, "lockedOut": 0]
        } else {
            // Entra ID P1/P2 carry their service plan, as Graph lists it (api-reference/v1.0/resources/subscribedsku.md: servicePlans).
            var plans: [JSONValue] = []
            if let plan = Self.premiumPlans[skuPartNumber.uppercased()] {
                let entry: JSONObject = [
                    "servicePlanId": .string(plan.planId), "servicePlanName": .string(skuPartNumber.uppercased()),
                    "provisioningStatus": "Success", "appliesTo": "User",
                ]
                plans.append(.object(entry))
            }
            let prepaid: JSONObject = ["enabled": .number(Double(units)), "suspended": 0, "warning": 0, "lockedOut": 0]
            let sku: JSONObject = [
                "id": .string("\(tenantID)_\(skuId.lowercased())"), "skuId": .string(skuId.lowercased()),
                "skuPartNumber": .string(skuPartNumber),
                "capabilityStatus": "Enabled", "appliesTo": "User", "consumedUnits": 0, "prepaidUnits": .object(prepaid),
                "servicePlans": .array(plans),
            ]
            skus.append(sku)
        }
        try saveSubscribedSkus(skus)
    }

    func subscribedSkus() -> [JSONObject] {
        var skus: [JSONObject] = []
        if let text = directory.setting("subscribedSkus"), let value = try? JSONCoding.decode(Data(text.utf8)) {
            skus = value.arrayValue?.compactMap(\.objectValue) ?? []
        }
        // A profile that buys Entra ID P1/P2 (newTenant.conditionalAccessLicensed) shows it as Graph would (api-reference/v1.0/resources/subscribedsku.md): P2;
        // the permissive start (no newTenant section) allows Conditional Access, so it shows P1.
        let bought: String?
        if let newTenant = profile.newTenant {
            bought = newTenant.conditionalAccessLicensed ? "AAD_PREMIUM_P2" : nil
        } else {
            bought = "AAD_PREMIUM"
        }
        if let bought, let plan = Self.premiumPlans[bought], !skus.contains(where: { $0["skuId"]?.stringValue == plan.skuId }) {
            let planEntry: JSONObject = [
                "servicePlanId": .string(plan.planId), "servicePlanName": .string(bought), "provisioningStatus": "Success",
                "appliesTo": "User",
            ]
            let sku: JSONObject = [
                "id": .string("\(tenantID)_\(plan.skuId)"), "skuId": .string(plan.skuId), "skuPartNumber": .string(bought),
                "capabilityStatus": "Enabled", "appliesTo": "User", "consumedUnits": 0,
                "prepaidUnits": ["enabled": 25, "suspended": 0, "warning": 0, "lockedOut": 0], "servicePlans": [.object(planEntry)],
            ]
            skus.append(sku)
        }
        return skus
    }

    private func saveSubscribedSkus(_ skus: [JSONObject]) throws {
        let data = try JSONCoding.encode(JSONValue.array(skus.map(JSONValue.object)))
        try directory.setSetting("subscribedSkus", String(decoding: data, as: UTF8.self))
    }

    /// `POST /users/{id}/assignLicense` and `POST /groups/{id}/assignLicense`.
    func assignLicense(_ id: String, type: String, _ body: JSONObject) throws -> JSONObject {
        var object = try get(id, type: type)
        guard let add = body["addLicenses"]?.arrayValue, body["removeLicenses"]?.arrayValue != nil else {
            throw GraphFailure.badRequest("Invalid request: addLicenses and removeLicenses are both required.")
        }
        if type == "user", (object["usageLocation"]?.stringValue ?? "").isEmpty {
            throw GraphFailure.badRequest("License assignment cannot be done for user with invalid usage location.")
        }
        var skus = subscribedSkus()
        var assigned = object["assignedLicenses"]?.arrayValue?.compactMap(\.objectValue) ?? []
        for license in add {
            guard let skuId = license["skuId"]?.stringValue?.lowercased() else {
                throw GraphFailure.badRequest("Invalid value specified for property 'skuId'.")
            }
            guard let index = skus.firstIndex(where: { $0["skuId"]?.stringValue == skuId }) else {
                throw GraphFailure.badRequest("License \(skuId) does not correspond to a valid company License.")
            }
            if let existing = assigned.firstIndex(where: { $0["skuId"]?.stringValue?.lowercased() == skuId }) {
                assigned[existing] = ["skuId": .string(skuId), "disabledPlans": license["disabledPlans"] ?? []]
                continue
            }
            let consumed = skus[index]["consumedUnits"]?.numberValue ?? 0,
                enabled = skus[index]["prepaidUnits"]?["enabled"]?.numberValue ?? 0
            if type == "user" {
                guard consumed < enabled else {
                    throw GraphFailure.badRequest(
                        "Subscription for \(skus[index]["skuPartNumber"]?.stringValue ?? skuId) does not have any available licenses.")
                }
                skus[index]["consumedUnits"] = .number(consumed + 1)
            }
            assigned.append(["skuId": .string(skuId), "disabledPlans": license["disabledPlans"] ?? []])
        }
        object["assignedLicenses"] = .array(assigned.map(JSONValue.object))
        try directory.transaction {
            try saveSubscribedSkus(skus)
            try directory.put(id, type: type, properties: object)
        }
        return object
    }

    /// `…/authentication/temporaryAccessPassMethods`: list, create (one per user), delete.
    func accessPasses(_ request: FakeRequest, userID: String, passID: String?) throws -> HTTPResponse {
        let key = "tap:\(userID)"
        let existing = directory.setting(key).flatMap { try? JSONCoding.decode(Data($0.utf8)).objectValue }
        switch (request.method, passID) {
        case ("GET", nil):
            return try json(200, ["value": .array(existing.map { [.object($0)] } ?? [])])
        case ("POST", nil):
            guard existing == nil else {
                throw GraphFailure.badRequest("A Temporary Access Pass already exists for this user; delete it before creating another.")
            }
            let body = request.body ?? [:]
            try GraphSchema.v1.validate(body, as: "temporaryAccessPassAuthenticationMethod")
            // The method must be enabled for this user in the authentication-methods policy
            // (api-reference/v1.0/api/authentication-post-temporaryaccesspassmethods.md; api-reference/v1.0/resources/temporaryaccesspassauthenticationmethodconfiguration.md).
            try checkAccessPassAllowed(for: userID)
            let policy = accessPassConfiguration()
            let minutes = body["lifetimeInMinutes"]?.numberValue ?? policy["defaultLifetimeInMinutes"]?.numberValue ?? 60
            let minimum = policy["minimumLifetimeInMinutes"]?.numberValue ?? 10,
                maximum = policy["maximumLifetimeInMinutes"]?.numberValue ?? 43_200
            guard (minimum...maximum).contains(minutes) else {
                throw GraphFailure.badRequest(
                    "lifetimeInMinutes must be between \(Int(minimum)) and \(Int(maximum)) (the Temporary Access Pass policy's limits).")
            }
            let now = ISO8601DateFormatter().string(from: self.now())
            let method: JSONObject = [
                "@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethod", "id": .string(newID()),
                "createdDateTime": .string(now), "startDateTime": .string(now), "lifetimeInMinutes": .number(minutes),
                "isUsableOnce": body["isUsableOnce"] ?? false, "isUsable": true, "methodUsabilityReason": "EnabledByPolicy",
            ]
            let pass = String(
                (0..<16).map { _ in Array("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!@#$%&").randomElement()! })
            try directory.setSetting(key, String(decoding: try JSONCoding.encode(JSONValue.object(method)), as: UTF8.self))
            var answer = method
            answer["temporaryAccessPass"] = .string(pass)  // returned once, never stored
            return try json(201, answer)
        case ("DELETE", let id?):
            guard existing?["id"]?.stringValue == id else { throw GraphFailure.notFound(id) }
            try directory.setSetting(key, "")
            return HTTPResponse(status: 204)
        default:
            throw GraphFailure(status: 405, code: "Request_BadRequest", message: "\(request.method) is not supported on \(request.path).")
        }
    }
}
