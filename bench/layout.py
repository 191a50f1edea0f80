"""What the benchmark database holds, as pure functions of the organisation's size, so that the
loader, the request builders and a reused database all agree on who is where.

People are numbered 0..N-1 in load order (primary keys follow it). Each measurement that changes
people takes them from its own slice of that range (a pool), so that no two measurements touch
the same rows and every one can be repeated.
"""

from dataclasses import dataclass

# The organisation of the issue, a second one of the same size (tenant scoping: every userName
# exists in both), and a small one: the same requests against it show whether the number of
# queries per request depends on the organisation's size.
TEAMS_IN_FIRST = 200
SMALL_ORGANISATION_PEOPLE = 1_000
SMALL_ORGANISATION_TEAMS = 10

BIG_TEAM = "All Hands"
SMALL_TEAM = "Leadership Ten"
ADD_TEAM = "Onboarding"
BIG_TEAM_SIZE = 10_000
SMALL_TEAM_SIZE = 10
ADD_TEAM_SIZE = 500
REGULAR_TEAM_SIZES = (20, 1_000)  # smallest and largest, drawn at random
MIN_PEOPLE_FOR_TEAMS = 400  # the regular teams draw 20 to people // 20 members
REPORTS_PER_MANAGER = 20  # person i reports to person i // 20: a tree five levels deep at 100k

GIVEN_NAMES = (
    "Ada", "Ben", "Cleo", "Dev", "Erin", "Femi", "Gus", "Hana", "Ivo", "Jun",
    "Kai", "Lena", "Milo", "Nia", "Omar", "Pia", "Quin", "Rosa", "Sami", "Tove",
)  # fmt: skip
FAMILY_NAMES = (
    "Achebe", "Byrne", "Castro", "Dahl", "Eze", "Fischer", "Garcia", "Horvat", "Ito", "Jensen",
    "Kowalski", "Larsen", "Moreau", "Novak", "Okafor", "Patel", "Quist", "Rossi", "Sato", "Tan",
)  # fmt: skip
DEPARTMENTS = ("Sales", "Engineering", "Support", "Finance", "People", "Marketing", "Legal")

# Slices of the people, as fractions of N (see the module docstring).
POOLS: dict[str, tuple[float, float]] = {
    "put": (0.20, 0.30),
    "deactivate": (0.30, 0.40),
    "saml": (0.40, 0.50),
    "add_members": (0.50, 1.00),  # never members of ADD_TEAM
    "mixed": (0.60, 1.00),
}


@dataclass(frozen=True)
class OrganisationPlan:
    slug: str
    name: str
    people: int
    teams: int

    @property
    def domain(self) -> str:
        return f"{self.slug}.example"


def plans(people: int) -> list[OrganisationPlan]:
    """The first organisation (teams, SAML), the second (same people, no teams) and the small
    one. The size is in the name, so that a reused database is known to fit."""
    return [
        OrganisationPlan("bench-a", f"Bench A ({people} people)", people, TEAMS_IN_FIRST),
        OrganisationPlan("bench-b", f"Bench B ({people} people)", people, 0),
        OrganisationPlan(
            "bench-small",
            f"Bench Small ({SMALL_ORGANISATION_PEOPLE} people)",
            SMALL_ORGANISATION_PEOPLE,
            SMALL_ORGANISATION_TEAMS,
        ),
    ]


def given_name(index: int) -> str:
    return GIVEN_NAMES[index % len(GIVEN_NAMES)]


def family_name(index: int) -> str:
    return FAMILY_NAMES[(index // len(GIVEN_NAMES)) % len(FAMILY_NAMES)]


def username(plan: OrganisationPlan, index: int) -> str:
    """Stored as an identity provider sends it, capitals and all: Ada.Achebe.000000@…"""
    return f"{given_name(index)}.{family_name(index)}.{index:06d}@{plan.domain}"


def pool(people: int, name: str) -> range:
    start, end = POOLS[name]
    return range(int(people * start), int(people * end))


def big_team_members(people: int) -> range:
    return range(min(BIG_TEAM_SIZE, people // 2))


def small_team_members(people: int) -> range:
    start = int(people * 0.15)
    return range(start, start + SMALL_TEAM_SIZE)


def add_team_members(people: int) -> range:
    start = int(people * 0.10)
    return range(start, start + min(ADD_TEAM_SIZE, people // 10))


def regular_team_name(number: int) -> str:
    return f"Team {number:03d} {DEPARTMENTS[number % len(DEPARTMENTS)]}"


def many_plans(organisations: int, people: int) -> list[OrganisationPlan]:
    """The scale mode's many organisations (issue 19, item 6), loaded beside the others: each
    shaped like the small one (with teams when it has enough people for them), under its own
    domain."""
    return [
        OrganisationPlan(
            f"bench-many-{number:04d}",
            f"Bench Many {number} ({people} people)",
            people,
            SMALL_ORGANISATION_TEAMS if people >= MIN_PEOPLE_FOR_TEAMS else 0,
        )
        for number in range(organisations)
    ]
