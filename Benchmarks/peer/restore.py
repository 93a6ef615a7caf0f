#!/usr/bin/env python3
"""The peer Lifeboat is measured against: a restore script written with Microsoft's Python Graph SDK
(msgraph-sdk) the way an administrator would write one on the day.

It reads a Lifeboat snapshot (users.json, groups.json) and recreates, in the tenant behind --base:

- every cloud member user (guests and users synced from on-premises AD are left out, as Lifeboat's users.create
  leaves them out), with its UPN moved to the tenant's initial domain (the runbook's upnDomainMap does the same);
- every group Graph can create (not mail-enabled security groups, not synced groups), dynamic ones with their rule;
- every membership of a non-dynamic group whose member was recreated above (users and nested groups).

One SDK call per object and per membership (POST /users, POST /groups, POST /groups/{id}/members/$ref), eight at a
time (asyncio), with the SDK's default middleware (its RetryHandler honours Retry-After a few times, then gives up).
A call that still fails is printed and counted, and the script goes on: what an administrator's script does.

    Benchmarks/peer/restore.py --base http://127.0.0.1:PORT --tenant TENANT --client-id ID \
        --client-secret-file FILE --snapshot DIR [--concurrency 8] [--out result.json]

The harness (Benchmarks/benchmark.py) installs msgraph-sdk into a virtual environment (requirements.txt) and runs this
with it. The SDK is pointed at the fake the same way Scripts/msgraph-sdk-check.py does: a token from the fake's token
endpoint, handed over by a static token provider, and the request adapter's base URL set to the fake's /v1.0.
"""

import argparse
import asyncio
import json
import os
import secrets
import sys
import time
import urllib.parse
import urllib.request

from kiota_abstractions.authentication import AccessTokenProvider, AllowedHostsValidator, BaseBearerTokenAuthenticationProvider
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.models.group import Group
from msgraph.generated.models.password_profile import PasswordProfile
from msgraph.generated.models.reference_create import ReferenceCreate
from msgraph.generated.models.user import User


class StaticToken(AccessTokenProvider):
    """Hands the SDK a token obtained beforehand, for one host only."""

    def __init__(self, token, host):
        self.token = token
        self.validator = AllowedHostsValidator([host])

    async def get_authorization_token(self, uri, additional_authentication_context=None):
        return self.token

    def get_allowed_hosts_validator(self):
        return self.validator


def fetch_token(base, tenant, client_id, secret):
    form = urllib.parse.urlencode({
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret,
        "scope": "https://graph.microsoft.com/.default",
    }).encode()
    request = urllib.request.Request(f"{base}/{tenant}/oauth2/v2.0/token", data=form,
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(request) as response:
        return json.load(response)["access_token"]


def load(snapshot, name):
    with open(os.path.join(snapshot, name), encoding="utf-8") as handle:
        return json.load(handle)["value"]


def is_guest(user):
    return (user.get("userType") or "").lower() == "guest"


def creatable_group(group):
    unified = any(t.lower() == "unified" for t in group.get("groupTypes") or [])
    if group.get("mailEnabled") and not unified:
        return False
    return not group.get("onPremisesSyncEnabled")


def is_dynamic(group):
    return any(t.lower() == "dynamicmembership" for t in group.get("groupTypes") or [])


async def main():
    parser = argparse.ArgumentParser(description="Restore users, groups and memberships with msgraph-sdk, one call per object.")
    parser.add_argument("--base", required=True)
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret-file", required=True)
    parser.add_argument("--snapshot", required=True)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--out", help="write counts and timings as JSON here")
    arguments = parser.parse_args()
    base = arguments.base.rstrip("/")
    with open(arguments.client_secret_file, encoding="utf-8") as handle:
        secret = handle.readline().strip()

    started = time.monotonic()
    token = fetch_token(base, arguments.tenant, arguments.client_id, secret)
    adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(StaticToken(token, urllib.parse.urlparse(base).hostname)))
    adapter.base_url = f"{base}/v1.0"
    client = GraphServiceClient(request_adapter=adapter)

    organization = await client.organization.get()
    domain = next(d.name for d in organization.value[0].verified_domains if d.name.endswith(".onmicrosoft.com"))

    users = [u for u in load(arguments.snapshot, "users.json") if not is_guest(u) and not u.get("onPremisesSyncEnabled")]
    groups = [g for g in load(arguments.snapshot, "groups.json") if creatable_group(g)]
    new_ids = {}
    failures = {"users": 0, "groups": 0, "memberships": 0}
    calls = {"users": 0, "groups": 0, "memberships": 0}
    gate = asyncio.Semaphore(arguments.concurrency)

    async def guarded(kind, what, call):
        async with gate:
            calls[kind] += 1
            try:
                return await call()
            except Exception as error:  # the SDK raises ODataError (or an httpx error) once its retries are spent
                failures[kind] += 1
                code = getattr(getattr(error, "error", None), "code", None) or type(error).__name__
                print(f"failed: {kind} {what}: {code}", file=sys.stderr)
                return None

    async def create_user(user):
        local = user["userPrincipalName"].split("@")[0]
        body = User(account_enabled=user.get("accountEnabled", True), display_name=user["displayName"],
                    mail_nickname=user.get("mailNickname") or local, user_principal_name=f"{local}@{domain}",
                    given_name=user.get("givenName"), surname=user.get("surname"), job_title=user.get("jobTitle"),
                    department=user.get("department"), office_location=user.get("officeLocation"),
                    usage_location=user.get("usageLocation"),
                    password_profile=PasswordProfile(force_change_password_next_sign_in=True,
                                                     password="Rb!" + secrets.token_urlsafe(18)))
        created = await guarded("users", user["userPrincipalName"], lambda: client.users.post(body))
        if created is not None:
            new_ids[user["id"]] = created.id

    async def create_group(group):
        body = Group(display_name=group["displayName"], description=group.get("description"),
                     mail_enabled=bool(group.get("mailEnabled")), mail_nickname=group["mailNickname"],
                     security_enabled=bool(group.get("securityEnabled")), group_types=group.get("groupTypes") or [],
                     is_assignable_to_role=group.get("isAssignableToRole"))
        if is_dynamic(group):
            body.membership_rule = group.get("membershipRule")
            body.membership_rule_processing_state = group.get("membershipRuleProcessingState") or "On"
        created = await guarded("groups", group["displayName"], lambda: client.groups.post(body))
        if created is not None:
            new_ids[group["id"]] = created.id

    async def add_member(group_id, member_id, what):
        reference = ReferenceCreate(odata_id=f"{base}/v1.0/directoryObjects/{member_id}")
        await guarded("memberships", what, lambda: client.groups.by_group_id(group_id).members.ref.post(reference))

    await asyncio.gather(*(create_user(u) for u in users))
    users_done = time.monotonic()
    await asyncio.gather(*(create_group(g) for g in groups))
    groups_done = time.monotonic()
    memberships = []
    for group in groups:
        if is_dynamic(group) or group["id"] not in new_ids:
            continue
        for member in group.get("members") or []:
            if member["id"] in new_ids:
                memberships.append((new_ids[group["id"]], new_ids[member["id"]], f"{group['displayName']} <- {member['id']}"))
    await asyncio.gather(*(add_member(*m) for m in memberships))
    finished = time.monotonic()

    result = {
        "seconds": round(finished - started, 3),
        "phases": {"users": round(users_done - started, 3), "groups": round(groups_done - users_done, 3),
                   "memberships": round(finished - groups_done, 3)},
        "calls": calls, "failures": failures, "concurrency": arguments.concurrency,
    }
    print(json.dumps(result))
    if arguments.out:
        with open(arguments.out, "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
