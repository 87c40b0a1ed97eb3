"""The cohort data contract as constants: table names, codes and their meaning.

Source: the project's data contract (README, "Data contract"). Every module that needs a
code list imports it from here; nothing else spells these lists.
"""
from __future__ import annotations

LEVELS: tuple[str, ...] = ("THCS", "THPT")

#: Destinations allowed after each level's graduation.
DESTINATIONS: dict[str, tuple[str, ...]] = {
    "THCS": ("thpt", "gdtx", "voc_intermediate", "voc_elementary", "employment", "other", "unknown"),
    "THPT": ("university", "voc_college", "voc_intermediate", "voc_elementary", "employment", "other", "unknown"),
}
ALL_DESTINATIONS: tuple[str, ...] = tuple(dict.fromkeys(d for ds in DESTINATIONS.values() for d in ds))

#: A destination counts as vocational uptake when it starts with this prefix
#: (``voc_college``, ``voc_intermediate``, ``voc_elementary``; a later ``voc_*`` level too).
VOCATIONAL_PREFIX = "voc_"
UNKNOWN = "unknown"

SEXES: tuple[str, ...] = ("F", "M")
ETHNICITIES: tuple[str, ...] = ("kinh", "khmer", "hoa", "other", "unknown")

QUALIFICATIONS: tuple[str, ...] = ("none", "elementary", "intermediate", "college", "university")
VOC_LEVELS: tuple[str, ...] = ("elementary", "intermediate", "college")

REQUIRED_TABLES: tuple[str, ...] = ("schools", "communes", "graduates", "counseling")
OPTIONAL_TABLES: tuple[str, ...] = ("students", "labour_demand", "vocational_supply")
ALL_TABLES: tuple[str, ...] = REQUIRED_TABLES + OPTIONAL_TABLES

GEOGRAPHIES: tuple[str, ...] = ("pre2025", "post2025")


#: First characters that make a spreadsheet read a text cell as a formula ("CSV injection",
#: OWASP): text given to the toolkit may not start with one (validation and parameters refuse it).
FORMULA_STARTS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
