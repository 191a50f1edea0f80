"""The requests of each measured endpoint, shaped as Okta and Entra send them, for any tenant.

Every function returns jobs (see bench.loadgen.Job) that can be repeated as often as wanted:
writes take their people from the tenant's pools (bench.layout) and undo themselves with
helper requests that are not measured.
"""

import dataclasses
import itertools
import json
import random
import secrets
import uuid
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from bench import layout
from bench.loadgen import Job, Request
from bench.tenants import Person, Tenant
from bench.urls import FLOOR_PREFIX

SCIM_JSON = "application/scim+json"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
OKTA_AGENT = "Okta SCIM Client 1.0.0"
ENTRA_AGENT = "Microsoft.Identity.Provisioning/1.0"
ADD_MANY = 256


def _scim(
    tenant: Tenant,
    method: str,
    path: str,
    label: str,
    *,
    body: dict[str, Any] | None = None,
    expect: tuple[int, ...] = (200,),
    variant: str = "",
    agent: str = OKTA_AGENT,
) -> Request:
    return Request(
        method=method,
        path=tenant.scim_path + path,
        label=label,
        variant=variant,
        body=json.dumps(body).encode() if body is not None else b"",
        content_type=SCIM_JSON if body is not None else "",
        headers=(("Authorization", f"Bearer {tenant.scim_key}"), ("User-Agent", agent)),
        expect=expect,
    )


def _patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


# --- userName lookups: the floor and the SCIM filter ask for the same names ----------------


def lookup_names(tenant: Tenant, rng: random.Random) -> Iterator[tuple[str, str]]:
    """(name, "hit" or "miss") forever: half existing people, half nobody (Entra's connection
    test asks for a random GUID), each in a random mix of upper and lower case."""
    while True:
        if rng.random() < 0.5:
            name, variant = rng.choice(tenant.people).username, "hit"
        else:
            name, variant = f"{uuid.UUID(int=rng.getrandbits(128))}@{tenant.plan.domain}", "miss"
        yield "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in name), variant


def floor(tenant: Tenant, rng: random.Random) -> Iterator[Job]:
    for name, variant in lookup_names(tenant, rng):
        query = urlencode({"userName": name})
        path = f"{FLOOR_PREFIX}{tenant.organisation_pk}/?{query}"
        yield [Request("GET", path, label="floor", variant=variant)]


def filter_by_username(tenant: Tenant, rng: random.Random) -> Iterator[Job]:
    for name, variant in lookup_names(tenant, rng):
        query = quote(f'userName eq "{name}"')
        yield [_scim(tenant, "GET", f"/Users?filter={query}", "users_filter", variant=variant)]


def get_user(tenant: Tenant, rng: random.Random) -> Iterator[Job]:
    """GET /Users/{id} of anyone in the organisation (Entra reads a person before it updates)."""
    while True:
        person = rng.choice(tenant.people)
        yield [_scim(tenant, "GET", f"/Users/{person.public_id}", "users_get", agent=ENTRA_AGENT)]


# --- paging -------------------------------------------------------------------------------


def first_page(tenant: Tenant, rng: random.Random) -> Iterator[Job]:
    while True:
        yield [_scim(tenant, "GET", "/Users?startIndex=1&count=100", "users_first_page")]


def last_page(tenant: Tenant, rng: random.Random) -> Iterator[Job]:
    start = max(1, tenant.size - 99)
    while True:
        yield [_scim(tenant, "GET", f"/Users?startIndex={start}&count=100", "users_last_page")]


# --- users --------------------------------------------------------------------------------


def _user_document(person: Person, **changes: Any) -> dict[str, Any]:
    """A User as Okta sends it in POST and PUT (Okta SCIM 2.0 guide), password and all."""
    document = {
        "schemas": [CORE_USER],
        "userName": person.username,
        "name": {"givenName": person.given_name, "familyName": person.family_name},
        "emails": [{"primary": True, "value": person.email, "type": "work"}],
        "displayName": f"{person.given_name} {person.family_name}",
        "locale": "en-GB",
        "active": True,
        "password": "Bench-0kta-random-p4ss",  # Okta sends one; it is ignored
        "groups": [],
    }
    if person.external_id:
        document["externalId"] = person.external_id
    return {**document, **changes}


def create_user(tenant: Tenant, rng: random.Random) -> Iterator[Job]:
    # Not from the seed: a run on a database an earlier run left (--reuse-db) must not ask
    # for the people that run created.
    run = secrets.token_hex(4)
    for number in itertools.count():
        username = f"new-{run}-{number:06d}@{tenant.plan.domain}"
        external_id = f"00unew{run}{number:08d}"
        person = Person("", username, "New", f"Starter{number}", username, external_id)
        body = _user_document(person)
        yield [_scim(tenant, "POST", "/Users", "users_post", body=body, expect=(201,))]


def replace_user(tenant: Tenant, rng: random.Random) -> Iterator[Job]:
    # The title names the run, as POST's userNames do: a run on a database an earlier run left
    # (--reuse-db) would otherwise send the same bodies again and measure PUTs that change
    # nothing (6 statements where a real change makes 12).
    run = secrets.token_hex(4)
    for number, person in enumerate(itertools.cycle(tenant.pool("put"))):
        body = _user_document(person, id=person.public_id, title=f"Learner {run} {number % 7}")
        yield [_scim(tenant, "PUT", f"/Users/{person.public_id}", "users_put", body=body)]


def deactivate_reactivate(tenant: Tenant, rng: random.Random) -> Iterator[Job]:
    """Okta's deactivation and reactivation: a no-path replace of {"active": …}."""
    for person in itertools.cycle(tenant.pool("deactivate")):
        path = f"/Users/{person.public_id}"
        yield [
            _scim(
                tenant,
                "PATCH",
                path,
                "users_deactivate",
                body=_patch({"op": "replace", "value": {"active": False}}),
            ),
            _scim(
                tenant,
                "PATCH",
                path,
                "users_reactivate",
                body=_patch({"op": "replace", "value": {"active": True}}),
            ),
        ]


# --- teams --------------------------------------------------------------------------------


def _members(people: Sequence[Person]) -> list[dict[str, str]]:
    return [{"value": person.public_id, "display": person.username} for person in people]


def _add(tenant: Tenant, team: str, people: Sequence[Person], label: str) -> Request:
    body = _patch({"op": "add", "path": "members", "value": _members(people)})
    return _scim(tenant, "PATCH", f"/Groups/{team}", label, body=body, expect=(204,))


def _remove_one(tenant: Tenant, team: str, person: Person, label: str) -> Request:
    """Okta removes one member with a value filter (Okta SCIM 2.0 guide)."""
    body = _patch({"op": "remove", "path": f'members[value eq "{person.public_id}"]'})
    return _scim(tenant, "PATCH", f"/Groups/{team}", label, body=body, expect=(204,))


def _remove_many(tenant: Tenant, team: str, people: Sequence[Person], label: str) -> Request:
    """Entra removes members with path "members" and the list to remove."""
    body = _patch({"op": "Remove", "path": "members", "value": _members(people)})
    return _scim(
        tenant, "PATCH", f"/Groups/{team}", label, body=body, expect=(204,), agent=ENTRA_AGENT
    )


def add_one_member(tenant: Tenant, rng: random.Random) -> Iterator[Job]:
    team = tenant.teams[layout.ADD_TEAM]
    for person in itertools.cycle(tenant.pool("add_members")):
        yield [
            _add(tenant, team, [person], "group_add_1"),
            _remove_one(tenant, team, person, ""),
        ]


def add_many_members(tenant: Tenant, rng: random.Random) -> Iterator[Job]:
    team = tenant.teams[layout.ADD_TEAM]
    pool = tenant.pool("add_members")
    size = min(ADD_MANY, len(pool))
    chunks = [pool[start : start + size] for start in range(0, len(pool) - size + 1, size)]
    for chunk in itertools.cycle(chunks):
        yield [
            _add(tenant, team, chunk, "group_add_256"),
            _remove_many(tenant, team, chunk, ""),
        ]


def _remove_and_restore(
    tenant: Tenant, team_name: str, members: range, label: str
) -> Iterator[Job]:
    team = tenant.teams[team_name]
    for person in itertools.cycle(tenant.members(members)):
        yield [
            _remove_one(tenant, team, person, label),
            _add(tenant, team, [person], ""),
        ]


def remove_from_big_team(tenant: Tenant, rng: random.Random) -> Iterator[Job]:
    members = layout.big_team_members(tenant.size)
    return _remove_and_restore(tenant, layout.BIG_TEAM, members, "group_remove_1_of_big")


def remove_from_small_team(tenant: Tenant, rng: random.Random) -> Iterator[Job]:
    members = layout.small_team_members(tenant.size)
    return _remove_and_restore(tenant, layout.SMALL_TEAM, members, "group_remove_1_of_10")


def big_team_without_members(tenant: Tenant, rng: random.Random) -> Iterator[Job]:
    """Entra reads groups with excludedAttributes=members."""
    path = f"/Groups/{tenant.teams[layout.BIG_TEAM]}?excludedAttributes=members"
    while True:
        yield [_scim(tenant, "GET", path, "group_get_excluded", agent=ENTRA_AGENT)]


def big_team(tenant: Tenant, rng: random.Random) -> Iterator[Job]:
    path = f"/Groups/{tenant.teams[layout.BIG_TEAM]}"
    while True:
        yield [_scim(tenant, "GET", path, "group_get_members")]


# --- SAML ---------------------------------------------------------------------------------


def saml_acs(tenant: Tenant, responses: Sequence[str]) -> Iterator[Job]:
    """Each response once (assertions are accepted once), IdP-initiated as from the Okta tile:
    validated, the person signed in, redirected."""
    for encoded in responses:
        yield [
            Request(
                "POST",
                tenant.acs_path,
                label="saml_acs",
                body=urlencode({"SAMLResponse": encoded, "RelayState": "/"}).encode(),
                content_type="application/x-www-form-urlencoded",
                expect=(302,),
            )
        ]


# --- the sustained mixed run --------------------------------------------------------------


def mixed(tenant: Tenant, rng: random.Random) -> Iterator[Request]:
    """What an identity provider's sync sends, one request at a time: mostly lookups by
    userName, then reads, updates, a few creations and, where the tenant has teams, member
    changes. Each request's variant names its kind, for the p95 of each."""
    names = lookup_names(tenant, rng)
    created = create_user(tenant, rng)
    people = tenant.pool("mixed")
    teams = tenant.regular_teams
    kinds = ["filter"] * 40 + ["get"] * 10 + ["page"] * 5 + ["patch"] * 15 + ["put"] * 5
    kinds += ["post"] * 5 + ["active"] * 5 + (["team"] * 15 if teams else ["filter"] * 15)
    while True:
        kind = rng.choice(kinds)
        person = rng.choice(people)
        user_path = f"/Users/{person.public_id}"
        if kind == "filter":
            name, _ = next(names)
            query = quote(f'userName eq "{name}"')
            request = _scim(tenant, "GET", f"/Users?filter={query}", "")
        elif kind == "get":
            request = _scim(tenant, "GET", user_path, "")
        elif kind == "page":
            start = rng.randrange(1, tenant.size, 100)
            request = _scim(tenant, "GET", f"/Users?startIndex={start}&count=100", "")
        elif kind == "patch":
            title = f"Learner {rng.randrange(9)}"
            body = _patch({"op": "replace", "path": "title", "value": title})
            request = _scim(tenant, "PATCH", user_path, "", body=body, agent=ENTRA_AGENT)
        elif kind == "put":
            body = _user_document(person, id=person.public_id, title="Learner")
            request = _scim(tenant, "PUT", user_path, "", body=body)
        elif kind == "post":
            request = next(created)[0]
        elif kind == "active":
            body = _patch({"op": "replace", "value": {"active": rng.random() < 0.5}})
            request = _scim(tenant, "PATCH", user_path, "", body=body)
        elif rng.random() < 0.5:
            request = _add(tenant, rng.choice(teams), [person], "")
        else:
            request = _remove_one(tenant, rng.choice(teams), person, "")
        yield dataclasses.replace(request, label="mixed", variant=kind)
