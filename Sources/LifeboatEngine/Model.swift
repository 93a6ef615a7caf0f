import Foundation
import LifeboatJSON
import LifeboatSnapshot

/// How the engine talks to its target.
package enum RunMode: String, Sendable, Codable {
    /// A rehearsal against a fake tenant.
    case tabletop
    /// A real rebuild against a real tenant.
    case live
    /// A live rebuild's reads against the real target with every write planned and none sent.
    case dryRun = "dry-run"

    /// Whether the executor sends writes. A dry run reads the target and plans every write without sending it: each
    /// operation is looked up (found objects are adopted into the run's ID map), the rest are recorded as "would write",
    /// gates pass without a decision and no stage's finishing step runs.
    package var writesToTarget: Bool { self != .dryRun }
}

/// Something a person must do after the run, because Graph cannot restore it.
package struct FollowUp: Sendable, Hashable, Codable {
    /// A short machine-friendly cause, e.g. `synced-user`, `unresolved-reference`, `password-reset`.
    package var category: String
    /// What could not be restored, in words.
    package var message: String
    /// What to do about it.
    package var action: String

    package init(category: String, message: String, action: String) {
        self.category = category
        self.message = message
        self.action = action
    }
}

/// One write (or skip) a stage plans, identified by a deterministic key.
package struct PlannedOperation: Sendable, Hashable {
    /// Deterministic key, e.g. `user:<oldId>` or `members:<oldGroupId>:2`.
    package var key: String
    /// The type of object the operation creates (for the ID map), when it creates one.
    package var objectType: ObjectType?
    /// The source object's id (old id).
    package var sourceID: String
    /// The key the object is found by in the target (UPN after domain mapping, uniqueName, appId, …).
    package var naturalKey: String?
    package var displayName: String
    /// Stage-specific data, kept in the checkpoint for reports (e.g. the member ids of a chunk).
    package var detail: JSONValue
    /// Set when the operation is skipped at plan time, with the follow-up that explains why.
    package var skip: FollowUp?

    package init(
        key: String, objectType: ObjectType?, sourceID: String, naturalKey: String?, displayName: String,
        detail: JSONValue = .null, skip: FollowUp? = nil
    ) {
        self.key = key
        self.objectType = objectType
        self.sourceID = sourceID
        self.naturalKey = naturalKey
        self.displayName = displayName
        self.detail = detail
        self.skip = skip
    }
}

/// How an object came to exist in the target.
package enum RestoreMethod: String, Sendable, Codable, CaseIterable {
    /// Written by this run.
    case created
    /// Found in the target by its natural key and taken over (after a crash, or a second run).
    case adopted
    /// Brought back from the directory recycle bin with its original id.
    case restored
}

/// The result of one operation.
package struct OperationOutcome: Sendable, Hashable {
    package enum Result: String, Sendable, Codable {
        /// A new object was written.
        case created
        /// An existing object was found and taken over instead of writing a duplicate.
        case adopted
        /// A relationship or property write was applied.
        case applied
        /// Already in the desired state; nothing was written.
        case unchanged
        /// Not done, with a follow-up.
        case skipped
    }

    package var result: Result
    /// The target's id of the object, when the operation produced or found one.
    package var newID: String?
    /// Extra ID-map columns (e.g. appIds) for this object.
    package var newAppID: String?
    package var followUps: [FollowUp]
    package var note: String?
    /// The natural key the object got when it differs from the planned one (a user created straight on its verified
    /// UPN domain instead of the recovery domain); the ID map records it.
    package var naturalKey: String?
    /// The app registration that sent the operation's write (``GraphApp/name``); the executor fills it in.
    package var app: String?

    package init(
        _ result: Result, newID: String? = nil, newAppID: String? = nil, followUps: [FollowUp] = [], note: String? = nil,
        naturalKey: String? = nil
    ) {
        self.result = result
        self.newID = newID
        self.newAppID = newAppID
        self.followUps = followUps
        self.note = note
        self.naturalKey = naturalKey
    }
}

/// One row of the old-to-new ID map.
package struct IDMapEntry: Sendable, Hashable, Codable {
    package var objectType: ObjectType
    package var oldID: String
    package var newID: String
    package var naturalKey: String?
    package var displayName: String
    package var how: RestoreMethod
    package var oldAppID: String?
    package var newAppID: String?
    package var stageID: String

    package init(
        objectType: ObjectType, oldID: String, newID: String, naturalKey: String?, displayName: String,
        how: RestoreMethod, oldAppID: String? = nil, newAppID: String? = nil, stageID: String
    ) {
        self.objectType = objectType
        self.oldID = oldID
        self.newID = newID
        self.naturalKey = naturalKey
        self.displayName = displayName
        self.how = how
        self.oldAppID = oldAppID
        self.newAppID = newAppID
        self.stageID = stageID
    }
}

/// The old-to-new ID map as a stage sees it when it starts (entries of earlier stages).
package struct IDMap: Sendable {
    package private(set) var entries: [String: IDMapEntry] = [:]
    /// Lower-cased old appId → new appId, for restored applications.
    private var appIDs: [String: String] = [:]
    /// Lower-cased old appId → new appId, from the application rows only.
    package private(set) var restoredApplicationAppIDs: [String: String] = [:]

    package init(_ entries: [IDMapEntry] = []) {
        self.entries.reserveCapacity(entries.count)
        for entry in entries { insert(entry) }
    }

    /// The target id of a source object, if it has been restored.
    package func newID(for oldID: String) -> String? { entries[oldID]?.newID }

    /// The full entry of a source object.
    package func entry(for oldID: String) -> IDMapEntry? { entries[oldID] }

    package mutating func insert(_ entry: IDMapEntry) {
        entries[entry.oldID] = entry
        if let old = entry.oldAppID?.lowercased(), let new = entry.newAppID {
            appIDs[old] = new
            if entry.objectType == .application { restoredApplicationAppIDs[old] = new }
        }
    }

    /// Records a result the way the checkpoint's ID-map upsert does: a source object already mapped keeps its
    /// type, names and stage, and takes the new id, method and appId.
    package mutating func record(_ entry: IDMapEntry) {
        guard var existing = entries[entry.oldID] else {
            insert(entry)
            return
        }
        existing.newID = entry.newID
        existing.how = entry.how
        existing.newAppID = entry.newAppID
        insert(existing)
    }

    /// The new appId of a restored application, by its old appId.
    package func newAppID(forOldAppID oldAppID: String) -> String? { appIDs[oldAppID.lowercased()] }

    package var count: Int { entries.count }
}

/// A follow-up can be the failure side of a resolution (`Result<…, FollowUp>`).
extension FollowUp: Error {}
