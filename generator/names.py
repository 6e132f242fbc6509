"""Name pools and code lists. Every name is encodable in ISO-8859-1 (some units write that)."""
from __future__ import annotations

LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "García", "Miller", "Davis", "Rodríguez",
    "Martínez", "Hernández", "López", "González", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
    "Jackson", "Martin", "Lee", "Pérez", "Thompson", "White", "Harris", "Sánchez", "Clark",
    "Ramírez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres",
    "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell",
    "Mitchell", "Carter", "Roberts", "Núñez", "Strauß", "O'Brien", "Müller", "Béland", "Kowalski",
    "Ólafsson", "Peña", "Gómez", "Muñoz", "Schäfer", "D'Angelo", "Van der Berg", "Çelik",
    "Lindqvist", "Høgh", "Ibáñez", "Åberg", "McAllister", "Wójcik",
)
FIRST_NAMES = (
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William",
    "Elizabeth", "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Charles", "Karen", "José", "María", "Anna-Lena", "Renée", "Zoë", "André", "Jürgen", "François",
    "Inés", "Noël", "Chloé", "Raúl", "Sofía", "Mónica", "Ángel", "Björn", "Søren", "Maëlle",
    "Daniel", "Ashley", "Kevin", "Brittany", "Tyrone", "Keisha", "Dakota", "Jesús",
)
NICKNAMES = {
    "William": "Bill", "Robert": "Bob", "Elizabeth": "Liz", "Michael": "Mike", "James": "Jim",
    "Richard": "Rick", "Joseph": "Joe", "Jennifer": "Jen", "Patricia": "Pat", "Susan": "Sue",
    "Charles": "Chuck", "Thomas": "Tom", "David": "Dave", "Daniel": "Dan", "Jessica": "Jess",
}
MIDDLE_INITIALS = "ABCDEFGHJKLMNPRSTW"

# Illinois county FIPS codes are the odd numbers 001..203 (102 counties).
IL_COUNTIES = tuple(f"{n:03d}" for n in range(1, 204, 2))

TROOPS = tuple(f"TROOP {n}" for n in range(1, 16))
ZONES = tuple(f"ZONE {n}" for n in range(1, 7))
INCIDENT_TYPES = ("DRUG", "DUI", "TRAFFIC", "WEAPONS", "PROPERTY", "PERSON", "OTHER")
OFFENSES = (
    ("720 ILCS 570/402(c)", "Possession of a controlled substance", "4"),
    ("720 ILCS 550/4(a)", "Possession of cannabis", "C"),
    ("720 ILCS 646/60", "Possession of methamphetamine", "3"),
    ("625 ILCS 5/11-501(a)", "Driving under the influence", "A"),
    ("720 ILCS 600/3.5", "Possession of drug paraphernalia", "A"),
    ("720 ILCS 5/16-25", "Retail theft", "A"),
    ("720 ILCS 5/24-1.6", "Aggravated unlawful use of a weapon", "4"),
    ("720 ILCS 570/401(c)", "Manufacture or delivery", "1"),
)
EVIDENCE = (
    "Plastic bag, white powder", "Glass pipe", "Digital scale", "Syringes (3)",
    "Cannabis, approx. 12 g", "Pills, unlabelled bottle", "Cash", "Handgun",
)
CASE_MANAGERS = (
    "Centerstone", "Rosecrance", "Chestnut Health Systems", "Gateway Foundation",
    "Egyptian Health Department", "Heartland Alliance", "Thresholds", "Community Resource Center",
)
PROSECUTORS = ("State's Attorney", "County State's Attorney", "Appellate Prosecutor")
OTHER_FORM_TYPES = ("Citation", "SR1050Crash", "ArrestSynopsis", "WrittenWarning", "TowReport")
UNKNOWN_UNITS = ("XMEG", "ISPD5", "NWTF", "CMEG")
