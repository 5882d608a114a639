"""The names in the demo portfolio: people, companies, industries and regions.

CSMs get a first and a last name from two lists; companies get a name made of two
parts and, sometimes, a legal form, unique within the portfolio. Industries and
regions (the latter with their shares) are drawn from fixed lists too.
"""

from __future__ import annotations

import random

FIRST_NAMES = (
    "Alex", "Amara", "Ben", "Carla", "Chen", "Dana", "Diego", "Elena", "Farah", "Felix",
    "Grace", "Hana", "Ivan", "Jade", "Jonas", "Kai", "Laura", "Leo", "Maya", "Mateo",
    "Nadia", "Noah", "Olivia", "Omar", "Priya", "Quinn", "Rafael", "Rosa", "Sam", "Sara",
    "Tariq", "Tess", "Uma", "Victor", "Wen", "Yara", "Yusuf", "Zoe", "Lucas", "Ines",
)  # fmt: skip
LAST_NAMES = (
    "Adams", "Baker", "Castillo", "Dubois", "Eriksen", "Fischer", "Garcia", "Hughes",
    "Ibrahim", "Jansen", "Kowalski", "Lambert", "Moreau", "Nakamura", "Okafor", "Patel",
    "Quintero", "Rossi", "Schmidt", "Tanaka", "Usman", "Varga", "Walsh", "Xu", "Yilmaz",
    "Zhang", "Andersen", "Brennan", "Costa", "Novak", "Silva", "Kim", "Murphy", "Ortiz",
    "Park", "Reyes", "Sato", "Torres", "Weber", "Lindqvist",
)  # fmt: skip
NAME_PARTS_A = (
    "Acme", "Apex", "Atlas", "Aurora", "Beacon", "Birch", "Blue", "Bright", "Cedar",
    "Cobalt", "Coral", "Crest", "Delta", "Echo", "Ember", "Evergreen", "Falcon", "Fjord",
    "Granite", "Harbor", "Helix", "Horizon", "Iron", "Juniper", "Keystone", "Lumen",
    "Maple", "Meridian", "Nimbus", "Nordic", "North", "Oak", "Orbit", "Pacific", "Pine",
    "Pioneer", "Prism", "Quartz", "Red", "River", "Sable", "Silver", "Solar", "Spruce",
    "Stellar", "Summit", "Swift", "Terra", "Tidal", "Union", "Vantage", "Vector", "Willow",
    "Zenith", "Alder", "Basalt", "Canyon", "Drift", "Granada", "Lakeside",
)  # fmt: skip
NAME_PARTS_B = (
    "Analytics", "Bank", "Bio", "Brands", "Capital", "Cloud", "Consulting", "Dynamics",
    "Energy", "Engineering", "Foods", "Freight", "Health", "Holdings", "Industries",
    "Insurance", "Labs", "Logistics", "Media", "Medical", "Mobility", "Networks",
    "Partners", "Pharma", "Retail", "Robotics", "Software", "Solutions", "Studios",
    "Systems", "Technologies", "Telecom", "Travel", "Ventures", "Works", "Data",
    "Security", "Education", "Manufacturing", "Realty",
)  # fmt: skip
LEGAL_FORMS = ("", "", "", "Inc", "LLC", "Ltd", "GmbH", "Group", "Co", "SA", "AB", "BV")
INDUSTRIES = (
    "Software", "Financial services", "Healthcare", "Manufacturing", "Retail",
    "Logistics", "Media", "Education", "Energy", "Professional services",
)  # fmt: skip
REGIONS = (("North America", 0.45), ("EMEA", 0.35), ("APAC", 0.15), ("LATAM", 0.05))


def company_name(rng: random.Random, seen: set[str]) -> str:
    for _ in range(50):
        name = f"{rng.choice(NAME_PARTS_A)} {rng.choice(NAME_PARTS_B)}"
        legal = rng.choice(LEGAL_FORMS)
        if legal:
            name = f"{name} {legal}"
        if name not in seen:
            seen.add(name)
            return name
    name = f"{rng.choice(NAME_PARTS_A)} {rng.choice(NAME_PARTS_B)} {len(seen) + 1}"
    seen.add(name)
    return name
