"""The simulated identity provider's directory: made-up people and teams, and what happens to
them in one provisioning run. Deterministic: the same seed and sizes give the same directory,
so a second run finds the same people.

Pure: no database, no network. The vendor (Okta or Entra) only decides the shape of each
person's external id; everything else is the same for both, so running one after the other
against an organisation shows the second matching the people the first created.
"""

import hashlib
import random
import string
import unicodedata
import uuid
from dataclasses import dataclass, replace
from typing import Final, Literal

Vendor = Literal["okta", "entra"]

GIVEN_NAMES: Final = (
    "Amara", "Bjørn", "Chloé", "Dmitri", "Elena", "Farah", "Gustavo", "Hana", "Ibrahim", "Jonas",
    "Kwame", "Leila", "Mateo", "Nia", "Oskar", "Priya", "Quentin", "Rosa", "Sven", "Tomás",
    "Ugo", "Valentina", "Wei", "Ximena", "Yusuf", "Zoë", "Aiko", "Bruno", "Carmen", "Declan",
    "Esther", "Felix", "Grace", "Hugo", "Ines", "Jamal", "Katarzyna", "Lars", "Mei", "Nikolai",
)  # fmt: skip
FAMILY_NAMES: Final = (
    "Adeyemi", "Bergström", "Castillo", "Dubois", "Eriksen", "Fernández", "García", "Haddad",
    "Ivanova", "Jensen", "Kowalski", "Lindqvist", "Mbeki", "Nakamura", "O'Brien", "Petrov",
    "Quispe", "Rossi", "Schmidt", "Tanaka", "Usman", "van der Berg", "Wójcik", "Xu", "Y\u0131lmaz",
    "Zhang", "Achebe", "Novak", "Okafor", "Silva",
)  # fmt: skip
DEPARTMENTS: Final = {
    "Engineering": ("Software Engineer", "Site Reliability Engineer", "QA Engineer"),
    "Sales": ("Account Executive", "Sales Development Representative", "Account Manager"),
    "Marketing": ("Content Marketer", "Product Marketing Manager", "Designer"),
    "Customer Success": ("Support Engineer", "Customer Success Manager", "Technical Writer"),
    "Finance": ("Accountant", "Financial Analyst", "Payroll Specialist"),
    "People": ("HR Business Partner", "Recruiter", "Learning Coordinator"),
    "Operations": ("Operations Analyst", "Office Manager", "Procurement Specialist"),
}
EXECUTIVE: Final = "Executive"
# Teams that are not a department, pushed after the department teams.
OTHER_TEAMS: Final = ("Leadership", "Mentors", "Wellbeing Champions", "Book Club", "Hackathon")
_BASE62: Final = string.digits + string.ascii_letters


@dataclass(frozen=True)
class Person:
    index: int
    given_name: str
    family_name: str
    username: str  # an email address: userName, the NameID and the work email
    external_id: str  # the IdP's own id: Okta's 00u…, an Entra object id
    employee_number: str
    department: str
    title: str  # after this run
    first_title: str  # when created: differs from ``title`` for a promotion during the run
    manager: int | None  # index of their manager

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


@dataclass(frozen=True)
class Team:
    name: str
    members: tuple[int, ...]  # before the move of the run, if any


@dataclass(frozen=True)
class Move:
    """Someone leaves one team for another during the run."""

    person: int
    from_team: int
    to_team: int


@dataclass(frozen=True)
class Directory:
    people: tuple[Person, ...]
    teams: tuple[Team, ...]
    arrival: tuple[int, ...]  # the order the IdP pushes people in: reports before managers too
    leavers: tuple[int, ...]  # unassigned (deactivated) during the run
    returners: tuple[int, ...]  # unassigned, then assigned again (reactivated)
    gone: tuple[int, ...]  # deleted from the directory (Entra then deletes them from the app)
    promotions: tuple[int, ...]  # a new title after they were created
    move: Move | None

    def reports_of(self, index: int) -> list[int]:
        return [person.index for person in self.people if person.manager == index]


def build(*, vendor: Vendor, seed: int, people: int, teams: int, domain: str) -> Directory:
    """A directory of ``people`` people and ``teams`` teams for ``vendor``'s shapes."""
    if people < 1:
        raise ValueError("A directory needs at least one person.")
    rng = random.Random(seed)  # noqa: S311 (made-up data, not secrets)
    departments = list(DEPARTMENTS)[: max(1, min(len(DEPARTMENTS), people // 6))]
    usernames: set[str] = set()
    staff: list[Person] = []

    def add(department: str, title: str, manager: int | None) -> int:
        given, family = rng.choice(GIVEN_NAMES), rng.choice(FAMILY_NAMES)
        username = _unique(f"{_ascii(given)}.{_ascii(family)}", domain, usernames)
        index = len(staff)
        staff.append(
            Person(
                index=index,
                given_name=given,
                family_name=family,
                username=username,
                external_id=_external_id(vendor, seed, username),
                employee_number=f"E{10001 + index}",
                department=department,
                title=title,
                first_title=title,
                manager=manager,
            )
        )
        return index

    chief = add(EXECUTIVE, "Chief Executive Officer", None)
    heads = {
        department: add(department, f"Head of {department}", chief)
        for department in departments[: people - 1]
    }
    leads: dict[str, int] = {}
    while len(staff) < people:
        department = rng.choice(list(heads))
        if department not in leads:
            leads[department] = add(department, f"{department} Team Lead", heads[department])
            continue
        # Most report to their team lead, some straight to the head of the department.
        manager = leads[department] if rng.random() < 0.7 else heads[department]
        add(department, rng.choice(DEPARTMENTS[department]), manager)

    arrival = list(range(len(staff)))
    rng.shuffle(arrival)
    if len(arrival) > 1 and not _some_report_first(staff, arrival):
        # Directories are not sorted by rank: make sure a report arrives before their manager.
        arrival.remove(chief)
        arrival.append(chief)

    managers = {p.manager for p in staff if p.manager is not None}
    candidates = [person.index for person in staff if person.index not in managers]
    rng.shuffle(candidates)
    few = max(1, len(staff) // 20)

    def take(count: int) -> tuple[int, ...]:
        chosen = tuple(sorted(candidates[:count]))
        del candidates[:count]
        return chosen

    leavers = take(few)
    returners = take(few)
    gone = take(few) if vendor == "entra" else ()
    promotions = take(few)
    for index in promotions:
        person = staff[index]
        staff[index] = _promoted(person)

    team_list = _teams(rng, staff, departments, heads, chief, teams)
    return Directory(
        people=tuple(staff),
        teams=team_list,
        arrival=tuple(arrival),
        leavers=leavers,
        returners=returners,
        gone=gone,
        promotions=promotions,
        move=_move(rng, team_list, managers, set(leavers) | set(gone)),
    )


def _teams(
    rng: random.Random,
    staff: list[Person],
    departments: list[str],
    heads: dict[str, int],
    chief: int,
    count: int,
) -> tuple[Team, ...]:
    teams: list[Team] = []
    for name in [*departments, *OTHER_TEAMS]:
        if len(teams) == count:
            break
        if name in DEPARTMENTS:
            members = [p.index for p in staff if p.department == name]
        elif name == "Leadership":
            members = [chief, *heads.values()]
        else:
            size = max(2, len(staff) // 5)
            members = rng.sample(range(len(staff)), min(size, len(staff)))
        teams.append(Team(name, tuple(sorted(set(members)))))
    number = 1
    while len(teams) < count:
        size = max(2, len(staff) // 6)
        members = rng.sample(range(len(staff)), min(size, len(staff)))
        teams.append(Team(f"Project {number}", tuple(sorted(members))))
        number += 1
    return tuple(teams)


def _move(
    rng: random.Random, teams: tuple[Team, ...], managers: set[int], excluded: set[int]
) -> Move | None:
    options = [
        Move(person, source, target)
        for source, team in enumerate(teams)
        for person in team.members
        if person not in managers and person not in excluded
        for target, other in enumerate(teams)
        if target != source and person not in other.members
    ]
    return rng.choice(options) if options else None


def _promoted(person: Person) -> Person:
    return replace(person, title=f"Senior {person.title}")


def _some_report_first(staff: list[Person], arrival: list[int]) -> bool:
    position = {index: order for order, index in enumerate(arrival)}
    return any(
        position[person.index] < position[person.manager]
        for person in staff
        if person.manager is not None
    )


def _ascii(name: str) -> str:
    """Bjørn → bjorn, O'Brien → obrien, van der Berg → vanderberg: a userName's local part."""
    folded = name.replace("ø", "o").replace("\u0131", "i").replace("ł", "l")
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(c for c in decomposed if c.isascii() and c.isalnum()).lower()


def _unique(local: str, domain: str, taken: set[str]) -> str:
    candidate, number = f"{local}@{domain}", 2
    while candidate in taken:
        candidate, number = f"{local}{number}@{domain}", number + 1
    taken.add(candidate)
    return candidate


def _external_id(vendor: Vendor, seed: int, username: str) -> str:
    """The IdP's own id for the person, derived from who they are so that it does not depend on
    the order anything else was drawn in."""
    digest = hashlib.sha256(f"{vendor}:{seed}:{username}".encode()).digest()
    if vendor == "entra":
        return str(uuid.UUID(bytes=digest[:16], version=4))  # an Entra object id is a GUID
    # Okta's user ids: "00u" and 17 base-62 characters.
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(17):
        number, rest = divmod(number, 62)
        chars.append(_BASE62[rest])
    return "00u" + "".join(chars)
