"""What each SCIM request did, in one plain sentence for the Activity tab ("Okta deactivated Dana
Smith", "Okta added 3 people to Sales", "Okta looked up dana@demo.test: not found").

Pure: plain data in, plain data out, no database. ``facts_of`` runs when the request is logged
(``scim.activity.record``), on the body already parsed and the answer already built, and keeps
what the sentence needs and the log's other columns do not hold (a change of ``active``, member
counts, the person's name as sent, how many a lookup found); it costs the request nothing but a
walk over its own body, and the log entry is still one INSERT. ``sentence`` runs when the tab is
read, from the columns of the entry and those facts.
"""

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

# An "eq" filter on one attribute, as Okta and Entra look people and teams up:
# userName eq "dana@demo.test", displayName eq "Sales", externalId eq "00u1".
LOOKUP = re.compile(r'^\s*([A-Za-z][\w.:-]*)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE)
MAX_LOOKUP = 255
# How the Activity tab names each client in sentences: Entra's full name makes long sentences.
SHORT_NAMES = {"Microsoft Entra ID": "Entra"}
TRUE_TEXT = {"true"}
FALSE_TEXT = {"false"}


def resource_path(path: str) -> tuple[str, bool]:
    """("Users" | "Groups" | "", collection?) of a request path under a Tenant URL."""
    parts = [part for part in urlsplit(path).path.split("/") if part]
    for index, part in enumerate(parts):
        if part in ("Users", "Groups"):
            rest = parts[index + 1 :]
            return part, not rest or rest == [".search"]
    return "", False


def is_listing(method: str, path: str) -> bool:
    """A read of a list (``GET /Users``, ``POST /Users/.search``), not a create or a read of one."""
    kind, collection = resource_path(path)
    searching = urlsplit(path).path.rstrip("/").endswith("/.search")
    return bool(kind) and collection and (method == "GET" or (method == "POST" and searching))


def lookup_of(path: str, body: Any = None) -> str:
    """The value an ``eq`` filter looks for, from the query string (GET) or a .search body."""
    text = ""
    if isinstance(body, Mapping) and isinstance(body.get("filter"), str):
        text = body["filter"]
    else:
        values = parse_qs(urlsplit(path).query).get("filter", [])
        text = values[0] if values else ""
    found = LOOKUP.match(text[:1000])
    if found is None:
        return ""
    return found.group(2).replace('\\"', '"').replace("\\\\", "\\")[:MAX_LOOKUP]


def facts_of(*, method: str, path: str, body: Any, answer: Any) -> dict[str, Any]:
    """What the sentence will need and the log's columns do not keep. Only plain values: no
    secret (``password`` is never read), no text but a name the body gave."""
    kind, _ = resource_path(path)
    facts: dict[str, Any] = {}
    if is_listing(method, path):
        resources = answer.get("Resources") if isinstance(answer, Mapping) else None
        if isinstance(resources, list):
            facts["returned"] = len(resources)
        total = answer.get("totalResults") if isinstance(answer, Mapping) else None
        if isinstance(total, int) and not isinstance(total, bool):
            facts["total"] = total
        return facts
    if not isinstance(body, Mapping):
        return facts
    if kind == "Users":
        active = _active(body, method)
        if active is not None:
            facts["active"] = active
            if method == "PATCH" and _only_active(body):
                facts["only_active"] = True
        name = _person_name(body)
        if name:
            facts["name"] = name
    elif kind == "Groups":
        facts.update(_member_changes(body, method))
    return facts


def sentence(
    *,
    client: str,
    method: str,
    path: str,
    status: int,
    resource_type: str,
    label: str,
    name: str,
    facts: Mapping[str, Any],
    explanation: str,
) -> str:
    """One sentence saying what the request did, or why it was refused."""
    who = SHORT_NAMES.get(client, client) or "The SCIM client"
    kind, _ = resource_path(path)
    if status == 429:
        return (
            f"{who} sent more requests than the rate limit allows: this one was refused, and "
            f"{who} sends it again by itself."
        )
    if status >= 400:
        return explanation or f"{who}'s request was refused ({status})."
    if not kind:
        return f"{who} read what the service supports ({_last_part(path)})."
    noun = "person" if kind == "Users" else "team"
    if is_listing(method, path):
        return _list_sentence(who, noun, label, facts)
    recorded = facts.get("name") if isinstance(facts.get("name"), str) else ""
    subject = name or recorded or label or f"a {noun}"
    if kind == "Users":
        return _person_sentence(who, method, status, subject, facts)
    return _team_sentence(who, method, status, label or "a team", facts)


# --- sentences ----------------------------------------------------------------------------------


def _list_sentence(who: str, noun: str, looked_up: str, facts: Mapping[str, Any]) -> str:
    returned = facts.get("returned")
    if looked_up:
        what = looked_up if noun == "person" else f"team {looked_up}"
        if returned is None:
            return f"{who} looked up {what}."
        return f"{who} looked up {what}: {'found' if returned else 'not found'}."
    plural = "people" if noun == "person" else "teams"
    total = facts.get("total")
    if returned is None:
        return f"{who} read the list of {plural}."
    if total is not None:
        return f"{who} read {returned} of {total} {plural}."
    return f"{who} read {_count(returned, noun)} from the {plural} list."


def _person_sentence(
    who: str, method: str, status: int, subject: str, facts: Mapping[str, Any]
) -> str:
    active = facts.get("active")
    if method == "GET":
        return f"{who} read {subject}."
    if method == "DELETE":
        return f"{who} deleted {subject}."
    if method == "POST":
        return f"{who} added {subject}" + (", deactivated." if active is False else ".")
    if active is False:
        return f"{who} deactivated {subject}."
    if active is True and facts.get("only_active"):
        return f"{who} reactivated {subject}."
    return f"{who} updated {subject}."


def _team_sentence(who: str, method: str, status: int, team: str, facts: Mapping[str, Any]) -> str:
    if method == "GET":
        return f"{who} read team {team}."
    if method == "DELETE":
        return f"{who} deleted team {team}."
    members = facts.get("members")
    if method == "POST":
        return f"{who} created team {team}" + (
            f" with {_count(members, 'person')}." if members else "."
        )
    if "members" in facts:
        return f"{who} set the members of {team}: {_count(members or 0, 'person')}."
    added, removed = facts.get("added", 0), facts.get("removed", 0)
    if added and removed:
        return f"{who} added {_count(added, 'person')} to {team} and removed {removed}."
    if added:
        return f"{who} added {_count(added, 'person')} to {team}."
    if removed:
        return f"{who} removed {_count(removed, 'person')} from {team}."
    return f"{who} updated team {team}."


def _count(number: int, noun: str) -> str:
    if noun == "person":
        return "1 person" if number == 1 else f"{number} people"
    return f"1 {noun}" if number == 1 else f"{number} {noun}s"


def _last_part(path: str) -> str:
    parts = [part for part in urlsplit(path).path.split("/") if part]
    return parts[-1] if parts else "/"


# --- facts --------------------------------------------------------------------------------------


def _boolean(value: Any) -> bool | None:
    """Entra sends booleans as text ("False")."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_TEXT | FALSE_TEXT:
        return value.strip().lower() in TRUE_TEXT
    return None


def _operations(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    operations = body.get("Operations", body.get("operations"))
    if not isinstance(operations, list):
        return []
    return [op for op in operations if isinstance(op, Mapping)]


def _op_name(op: Mapping[str, Any]) -> str:
    name = op.get("op")
    return name.lower() if isinstance(name, str) else ""


def _path(op: Mapping[str, Any]) -> str:
    path = op.get("path")
    return path.strip() if isinstance(path, str) else ""


def _active(body: Mapping[str, Any], method: str) -> bool | None:
    if method in ("POST", "PUT"):
        return _boolean(body.get("active")) if "active" in body else None
    if method != "PATCH":
        return None
    found = None
    for op in _operations(body):
        if _op_name(op) not in ("add", "replace"):
            continue
        path, value = _path(op).lower(), op.get("value")
        if path == "active":
            found = _boolean(value)
        elif not path and isinstance(value, Mapping):
            for key, item in value.items():
                if isinstance(key, str) and key.lower() == "active":
                    found = _boolean(item)
    return found


def _only_active(body: Mapping[str, Any]) -> bool:
    """A PATCH that changes nothing but ``active``: Okta's and Entra's reactivation."""
    for op in _operations(body):
        path, value = _path(op).lower(), op.get("value")
        if path == "active":
            continue
        if (
            not path
            and isinstance(value, Mapping)
            and all(isinstance(k, str) and k.lower() == "active" for k in value)
        ):
            continue
        return False
    return True


def _text(value: Any) -> str:
    return value.strip()[:MAX_LOOKUP] if isinstance(value, str) else ""


def _person_name(body: Mapping[str, Any]) -> str:
    name = body.get("name")
    if isinstance(name, Mapping):
        given, family = _text(name.get("givenName")), _text(name.get("familyName"))
        if given or family:
            return " ".join(part for part in (given, family) if part)
        if _text(name.get("formatted")):
            return _text(name.get("formatted"))
    return _text(body.get("displayName"))


def _member_changes(body: Mapping[str, Any], method: str) -> dict[str, int]:
    if method in ("POST", "PUT"):
        members = body.get("members")
        return {"members": len(members)} if isinstance(members, list) else {}
    if method != "PATCH":
        return {}
    added = removed = 0
    replaced: int | None = None
    for op in _operations(body):
        name, path, value = _op_name(op), _path(op), op.get("value")
        lowered = path.lower()
        if lowered.startswith("members["):  # members[value eq "id"]: one person removed
            removed += 1 if name == "remove" else 0
            continue
        if lowered == "members":
            count = len(value) if isinstance(value, list) else 0
            if name == "add":
                added += count
            elif name == "remove":
                removed += count
            elif name == "replace":
                replaced = count
        elif not path and isinstance(value, Mapping) and isinstance(value.get("members"), list):
            if name == "add":
                added += len(value["members"])
            elif name == "replace":
                replaced = len(value["members"])
    changes: dict[str, int] = {}
    if replaced is not None:
        changes["members"] = replaced
    if added:
        changes["added"] = added
    if removed:
        changes["removed"] = removed
    return changes
