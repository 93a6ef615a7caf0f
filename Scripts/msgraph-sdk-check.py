#!/usr/bin/env python3
"""Point Microsoft's Python Graph SDK (msgraph-sdk) at a running `lifeboat fake-tenant serve`.

    python3 -m venv /tmp/msgraph && /tmp/msgraph/bin/pip install msgraph-sdk
    lifeboat fake-tenant serve --port 8080 --state /tmp/fake.sqlite      # prints tenant, client id, secret file
    /tmp/msgraph/bin/python Scripts/msgraph-sdk-check.py --base http://127.0.0.1:8080 \\
        --tenant TENANT_ID --client-id CLIENT_ID --client-secret-file /tmp/fake.sqlite.client-secret

The script gets a token from the fake's token endpoint (client credentials, client secret), hands it to
the SDK through a static access-token provider with the SDK's base URL set to the fake's /v1.0, then:
creates users, lists them page by page following @odata.nextLink, creates a group, adds a member
with POST /groups/{id}/members/$ref, reads the members back, sends a $batch (with dependsOn) through
the SDK's BatchRequestContent, counts users with GET /users/$count and lists a deleted user through the
SDK's cast /directory/deletedItems/graph.user. It prints one line per check and exits non-zero when one fails.
"""

import argparse
import asyncio
import json
import sys
import urllib.parse
import urllib.request
import uuid

from kiota_abstractions.authentication import AccessTokenProvider, AllowedHostsValidator, BaseBearerTokenAuthenticationProvider
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.models.group import Group
from msgraph.generated.models.password_profile import PasswordProfile
from msgraph.generated.models.reference_create import ReferenceCreate
from msgraph.generated.models.user import User
from msgraph.generated.users.users_request_builder import UsersRequestBuilder
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph_core.requests.batch_request_content import BatchRequestContent
from msgraph_core.requests.batch_request_item import BatchRequestItem


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
        body = json.load(response)
    return body["access_token"], body["expires_in"]


async def main():
    parser = argparse.ArgumentParser(description="Check msgraph-sdk against the Lifeboat fake tenant.")
    parser.add_argument("--base", required=True, help="http://127.0.0.1:PORT")
    parser.add_argument("--tenant", required=True, help="the tenant id or initial domain the server printed")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret-file", required=True)
    parser.add_argument("--domain", help="UPN domain for new users (default: the tenant's initial domain from /organization)")
    arguments = parser.parse_args()
    base = arguments.base.rstrip("/")
    with open(arguments.client_secret_file, encoding="utf-8") as handle:
        secret = handle.readline().strip()

    failures = 0

    def check(name, ok, detail=""):
        nonlocal failures
        failures += 0 if ok else 1
        print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}")

    token, lifetime = fetch_token(base, arguments.tenant, arguments.client_id, secret)
    check("token endpoint (client secret)", bool(token), f"expires_in {lifetime}")

    host = urllib.parse.urlparse(base).hostname
    adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(StaticToken(token, host)))
    adapter.base_url = f"{base}/v1.0"
    client = GraphServiceClient(request_adapter=adapter)

    organization = await client.organization.get()
    domains = [d.name for d in (organization.value[0].verified_domains or [])] if organization and organization.value else []
    domain = arguments.domain or next((d for d in domains if d.endswith(".onmicrosoft.com")), None)
    check("GET /organization", domain is not None, f"domains {domains}")

    run = uuid.uuid4().hex[:6]
    created = []
    for number in range(5):
        user = User(account_enabled=True, display_name=f"SDK user {run}-{number}", mail_nickname=f"sdk{run}{number}",
                    user_principal_name=f"sdk{run}{number}@{domain}",
                    password_profile=PasswordProfile(force_change_password_next_sign_in=True, password=f"Sdk!{uuid.uuid4()}"))
        result = await client.users.post(user)
        created.append(result.id)
    check("POST /users x5", all(created), f"ids {created[0]}…")

    query = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(top=2, select=["id", "userPrincipalName"])
    page = await client.users.get(request_configuration=RequestConfiguration(query_parameters=query))
    seen, pages = [], 0
    while page is not None:
        pages += 1
        seen += [u.user_principal_name for u in page.value or []]
        if not page.odata_next_link:
            break
        page = await client.users.with_url(page.odata_next_link).get()
    mine = [upn for upn in seen if upn.startswith(f"sdk{run}")]
    check("GET /users paged with $top=2 and @odata.nextLink", len(mine) == 5 and pages >= 3, f"{pages} pages, {len(seen)} users")

    group = await client.groups.post(Group(display_name=f"SDK group {run}", mail_enabled=False, mail_nickname=f"sdkgroup{run}",
                                           security_enabled=True))
    check("POST /groups", bool(group and group.id), group.id if group else "")
    await client.groups.by_group_id(group.id).members.ref.post(ReferenceCreate(odata_id=f"{base}/v1.0/directoryObjects/{created[0]}"))
    members = await client.groups.by_group_id(group.id).members.get()
    member_ids = [m.id for m in (members.value or [])]
    check("POST /groups/{id}/members/$ref then GET members", member_ids == [created[0]], f"{member_ids}")

    try:
        await client.groups.by_group_id(group.id).members.ref.post(ReferenceCreate(odata_id=f"{base}/v1.0/directoryObjects/{created[0]}"))
        check("adding the same member again is refused (400)", False, "no error")
    except Exception as error:  # the SDK raises ODataError with Graph's code
        code = getattr(getattr(error, "error", None), "code", None)
        check("adding the same member again is refused (400)", getattr(error, "response_status_code", None) == 400, f"code {code}")

    # $batch through the SDK's BatchRequestContent: three GETs and one that depends on the first.
    content = BatchRequestContent({})
    items = []
    for number, user_id in enumerate(created[:3]):
        item = BatchRequestItem(request_information=client.users.by_user_id(user_id).to_get_request_information(), id=f"get{number}")
        content.add_request(item.id, item)
        items.append(item)
    dependent = BatchRequestItem(request_information=client.groups.by_group_id(group.id).members.to_get_request_information(),
                                 id="members", depends_on=[items[0]])
    content.add_request(dependent.id, dependent)
    batch = await client.batch.post(batch_request_content=content)
    codes = batch.get_response_status_codes()
    check("POST /$batch (4 requests, one with dependsOn)", codes == {"get0": 200, "get1": 200, "get2": 200, "members": 200}, f"{codes}")
    # $count as a path segment (the SDK's users.count), which needs ConsistencyLevel: eventual (aad-advanced-queries.md).
    count_configuration = RequestConfiguration()
    count_configuration.headers.add("ConsistencyLevel", "eventual")
    count = await client.users.count.get(request_configuration=count_configuration)
    check("GET /users/$count (ConsistencyLevel: eventual)", isinstance(count, int) and count >= 5, f"{count}")

    # The type cast the SDK sends for deleted users: /directory/deletedItems/graph.user (directory-deleteditems-list.md).
    await client.users.by_user_id(created[4]).delete()
    deleted = await client.directory.deleted_items.graph_user.get()
    deleted_ids = [u.id for u in (deleted.value or [])] if deleted else []
    check("GET /directory/deletedItems/graph.user", created[4] in deleted_ids, f"{len(deleted_ids)} deleted users")
    print(f"{'all checks passed' if failures == 0 else f'{failures} checks failed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
