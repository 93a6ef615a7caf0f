#!/usr/bin/env python3
"""Generate Sources/LifeboatFakeTenant/Resources/graph-schema.json from Graph's v1.0 CSDL.

The fake tenant uses the result to reject unknown properties the way Graph does
(400 Request_BadRequest "Property 'x' does not exist on type 'microsoft.graph.user'.").

Usage (from the repository root):

    python3 Scripts/generate-graph-schema.py [METADATA_XML] [--out FILE]

METADATA_XML defaults to ../shared/graph/v1.0-cleanMetadata.xml (relative to the repository
root). The XML is not committed; the generated JSON is. Standard library only.

The output, compact and with sorted keys:

    {
      "source": "...",                       # which metadata file, for the record
      "types": {
        "user": {
          "kind": "entity",                  # or "complex"
          "baseType": "directoryObject",     # direct base, for reading; properties are already flattened
          "open": true,                      # OpenType: accepts extension_<appId>_<name> properties
          "abstract": false,
          "properties": {"id": "Edm.String", "passwordProfile": "graph.passwordProfile", ...},
          "navigation": {"manager": "graph.directoryObject", "memberOf": "Collection(graph.directoryObject)", ...}
        },
        ...
      },
      "derivedTypes": {"ipRange": ["iPv4CidrRange", "iPv6CidrRange"], ...}   # every descendant, transitively
    }

Included: the entity types Lifeboat restores (ROOT_TYPES), every complex type reachable from
their structural properties, and every type derived from an included one (so
`{"@odata.type": "#microsoft.graph.iPv4CidrRange"}` inside `ipRanges` is checked as such).
"""

import argparse
import json
import os
import sys
import xml.etree.ElementTree as ET

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
GRAPH_NAMESPACE = "microsoft.graph"

# The entity types Lifeboat captures and restores.
ROOT_TYPES = [
    "user", "group", "administrativeUnit", "application", "servicePrincipal",
    "appRoleAssignment",
    "oAuth2PermissionGrant",  # sic: Graph spells the type oAuth2…, the collection oauth2PermissionGrants
    "unifiedRoleDefinition", "unifiedRoleAssignment",
    "namedLocation", "ipNamedLocation", "countryNamedLocation", "conditionalAccessPolicy",
    "domain", "organization", "invitation",
    # Written by later stages (federated credentials, directory extensions) and cheap to carry.
    "federatedIdentityCredential", "extensionProperty",
    # A new tenant's starting state (issue 12): security defaults and the Temporary Access Pass policy and method.
    "identitySecurityDefaultsEnforcementPolicy", "temporaryAccessPassAuthenticationMethodConfiguration",
    "authenticationMethodTarget", "temporaryAccessPassAuthenticationMethod",
    # Custom authentication strengths referenced by Conditional Access grant controls.
    "authenticationStrengthPolicy",
]


def repository_root():
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_arguments():
    root = repository_root()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("metadata", nargs="?",
                        default=os.path.join(root, "..", "shared", "graph", "v1.0-cleanMetadata.xml"),
                        help="Graph v1.0 CSDL (default: ../shared/graph/v1.0-cleanMetadata.xml)")
    parser.add_argument("--out", default=os.path.join(root, "Sources", "LifeboatFakeTenant", "Resources", "graph-schema.json"),
                        help="where to write the JSON (default: the LifeboatFakeTenant resource)")
    return parser.parse_args()


def normalise(type_name, aliases):
    """`self.x` / `microsoft.graph.x` → `graph.x`; `Collection(...)` kept around it; Edm types unchanged."""
    if type_name.startswith("Collection(") and type_name.endswith(")"):
        return "Collection(" + normalise(type_name[len("Collection("):-1], aliases) + ")"
    if type_name.startswith("Edm."):
        return type_name
    namespace, _, name = type_name.rpartition(".")
    namespace = aliases.get(namespace, namespace)
    if namespace == GRAPH_NAMESPACE:
        return "graph." + name
    return namespace + "." + name


def element_type(type_name):
    """The type inside `Collection(...)`, or the type itself."""
    if type_name.startswith("Collection(") and type_name.endswith(")"):
        return type_name[len("Collection("):-1]
    return type_name


def short_name(type_name):
    """`graph.appRole` → `appRole`; anything outside microsoft.graph → None."""
    inner = element_type(type_name)
    return inner[len("graph."):] if inner.startswith("graph.") else None


def load(path):
    tree = ET.parse(path)
    schemas = tree.getroot().iter(EDM + "Schema")
    aliases = {}
    schema_list = list(schemas)
    for schema in schema_list:
        if schema.get("Alias"):
            aliases[schema.get("Alias")] = schema.get("Namespace")
    declared = {}
    for schema in schema_list:
        if schema.get("Namespace") != GRAPH_NAMESPACE:
            continue
        for kind, tag in (("entity", "EntityType"), ("complex", "ComplexType")):
            for element in schema.findall(EDM + tag):
                name = element.get("Name")
                base = element.get("BaseType")
                declared[name] = {
                    "kind": kind,
                    "baseType": short_name(normalise(base, aliases)) if base else None,
                    "open": element.get("OpenType") == "true",
                    "abstract": element.get("Abstract") == "true",
                    "properties": {p.get("Name"): normalise(p.get("Type"), aliases) for p in element.findall(EDM + "Property")},
                    "navigation": {p.get("Name"): normalise(p.get("Type"), aliases) for p in element.findall(EDM + "NavigationProperty")},
                    "contained": sorted(p.get("Name") for p in element.findall(EDM + "NavigationProperty") if p.get("ContainsTarget") == "true"),
                }
    return declared


def load_enums(path):
    """Enum types of microsoft.graph: name → {"members": [...], "flags": bool}."""
    enums = {}
    for schema in ET.parse(path).getroot().iter(EDM + "Schema"):
        if schema.get("Namespace") != GRAPH_NAMESPACE:
            continue
        for element in schema.findall(EDM + "EnumType"):
            enums[element.get("Name")] = {
                "members": [m.get("Name") for m in element.findall(EDM + "Member")],
                "flags": element.get("IsFlags") == "true",
            }
    return enums


def flattened(declared, name):
    """The type with its bases' properties and navigation properties merged in (derived wins)."""
    chain = []
    current = name
    while current is not None:
        if current not in declared:
            sys.exit(f"generate-graph-schema: {name} derives from {current}, which the metadata does not declare")
        chain.append(declared[current])
        current = declared[current]["baseType"]
    properties, navigation, contained, is_open = {}, {}, set(), False
    for level in reversed(chain):
        properties.update(level["properties"])
        navigation.update(level["navigation"])
        contained.update(level["contained"])
        is_open = is_open or level["open"]
    own = declared[name]
    result = {
        "kind": own["kind"],
        "open": is_open,
        "abstract": own["abstract"],
        "properties": properties,
        "navigation": navigation,
    }
    if contained:
        result["contained"] = sorted(contained)
    if own["baseType"]:
        result["baseType"] = own["baseType"]
    return result


def main():
    arguments = parse_arguments()
    if not os.path.exists(arguments.metadata):
        sys.exit(f"generate-graph-schema: {arguments.metadata} not found; pass the path of Graph's v1.0 cleanMetadata.xml")
    declared = load(arguments.metadata)
    children = {}
    for name, entry in declared.items():
        if entry["baseType"]:
            children.setdefault(entry["baseType"], []).append(name)

    def descendants(name):
        found = []
        for child in sorted(children.get(name, [])):
            found.append(child)
            found.extend(descendants(child))
        return found

    for root in ROOT_TYPES:
        if root not in declared:
            sys.exit(f"generate-graph-schema: the metadata has no type {root}")

    included = {}
    pending = list(ROOT_TYPES)
    while pending:
        name = pending.pop()
        if name in included:
            continue
        included[name] = flattened(declared, name)
        # Complex types used by structural properties, and types derived from this one.
        for type_name in included[name]["properties"].values():
            referenced = short_name(type_name)
            if referenced in declared and declared[referenced]["kind"] == "complex":
                pending.append(referenced)
        pending.extend(d for d in descendants(name) if declared[d]["kind"] == "complex" or name in ROOT_TYPES)

    derived = {name: [d for d in descendants(name) if d in included] for name in included}
    derived = {name: values for name, values in derived.items() if values}

    # The enum types the included types' properties use, so the fake can refuse values outside them.
    all_enums = load_enums(arguments.metadata)
    enums = {}
    for entry in included.values():
        for type_name in entry["properties"].values():
            name = short_name(type_name)
            if name in all_enums:
                enums[name] = all_enums[name]

    document = {
        "source": "Microsoft Graph v1.0 CSDL (clean_v10_metadata/cleanMetadata.xml), generated by Scripts/generate-graph-schema.py",
        "types": included,
        "derivedTypes": derived,
        "enums": enums,
    }
    data = json.dumps(document, sort_keys=True, separators=(",", ":"))
    os.makedirs(os.path.dirname(arguments.out), exist_ok=True)
    with open(arguments.out, "w", encoding="utf-8") as handle:
        handle.write(data + "\n")
    print(f"wrote {arguments.out}: {len(included)} types, {len(data):,} bytes")


if __name__ == "__main__":
    main()
