"""The cohort data contract as constants: table names, codes and their meaning.

Source: the project's data contract (README, "Data contract"). Every module that needs a
code list imports it from here; nothing else spells these lists.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

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
#: Control characters no workbook (openpyxl's IllegalCharacterError) or Word file (XML 1.0) can
#: hold; tab, line feed and carriage return are not among them.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# ------------------------------------------------------------------------------------------------
# Cell rules and table specs: what validation checks, what the importer and the template read
# ------------------------------------------------------------------------------------------------
#: The accepted spellings of a boolean cell (case-insensitive).
TRUE_WORDS: tuple[str, ...] = ("true", "1", "yes")
FALSE_WORDS: tuple[str, ...] = ("false", "0", "no")
#: ``schools.levels`` codes; "THPT,THCS" and spaces around the comma are read as "THCS,THPT".
SCHOOL_LEVELS: tuple[str, ...] = ("THCS", "THPT", "THCS,THPT")
#: VSIC 2018 section letters (``labour_demand.sector``).
VSIC_SECTIONS: tuple[str, ...] = tuple("ABCDEFGHIJKLMNOPQRSTU")
#: The widest range of years the toolkit names (the import template's year cells allow it).
PLAUSIBLE_YEARS: tuple[int, int] = (1990, 2100)


def plausible_years() -> tuple[int, int]:
    """Years a data row may carry, even when no review cycle is given: no cohort graduated
    before 1990 in the data this toolkit reads, and none after next year (2099 is a typo)."""
    import datetime as _dt

    return PLAUSIBLE_YEARS[0], min(PLAUSIBLE_YEARS[1], _dt.date.today().year + 1)
#: Largest count in one cell (students, places, workers): a district's cell is far below it,
#: and a larger number is a typing error (or would overflow sums).
MAX_COUNT = 10_000_000
#: A code or id: letters, digits, ``_ . - /``, starting with a letter or digit, no spaces.
_CODE_RE = r"[0-9A-Za-z][0-9A-Za-z_.\-/]{0,63}"
#: Words that stand for "no value" and must not be taken for a code (compared lower-cased).
PLACEHOLDERS: tuple[str, ...] = ("-", "--", "—", "na", "n/a", "n.a.", "nan", "null", "none", "nil", "x", "?",
                                 "không", "khong", "không có", "0")
#: Table shown instead of a value in messages about the students table.
NOT_SHOWN = "(not shown)"
#: What personal data looks like in a cell: a date of birth (12/03/2008, 12-3-2008, 12.03.2008,
#: 2008-03-12) or 9 to 12 digits in a row, with spaces, dots or dashes between them (a citizen
#: identity number has 9 or 12 digits, a phone number 10 or 11: 0912 345 678, +84 912 345 678). No
#: message shows a value that looks so, and name columns, residence codes and student keys may not
#: hold one.
PERSONAL_VALUE = re.compile(r"(?<![\d.,])(?:\+\s?)?\d(?:[ .\-]?\d){8,11}(?!\d)"
                            r"|(?<!\d)(?:\d{1,2}[/.\-]\d{1,2}[/.\-](?:19|20)\d{2}|(?:19|20)\d{2}-\d{1,2}-\d{1,2})(?!\d)")


def shown(value: Any) -> Any:
    """``value`` as a message may show it: ``NOT_SHOWN`` when it looks like personal data
    (``PERSONAL_VALUE``), else as it is."""
    return NOT_SHOWN if isinstance(value, str) and PERSONAL_VALUE.search(value) else value

#: A whole number; "12.0" (as pandas writes a float column) is accepted, "1.000" is not: in
#: Vietnamese number formatting that is one thousand, and reading it as 1 would be silently wrong.
_INT_RE = r"[+-]?[0-9]{1,15}(?:\.0)?"
#: Column names in ``students`` that betray personal data (after lower-casing, stripping accents
#: and turning every non-alphanumeric run into ``_``).
_PERSONAL_RE = re.compile(
    r"^(?:name|ten|ho|ho_ten|hoten|ho_va_ten|ten_hoc_sinh|ho_ten_hoc_sinh|first_name|last_name|"
    r"student_name|full_name|fullname|given_name|family_name|surname)$"
    r"|(?:^|_)(?:cccd|cmnd|can_cuoc|national_id|nationalid|id_number|id_card|identity|citizen_id|"
    r"passport|dob|date_of_birth|birth_date|birthdate|birthday|ngay_sinh|ngaysinh|"
    r"phone|so_dien_thoai|sdt|address|dia_chi|email)(?:$|_)"
)


Kind = Literal["str", "int", "float", "bool"]


@dataclass(frozen=True)
class ColumnSpec:
    """The contract for one column.

    ``required``: the column must exist; ``nullable``: empty cells allowed; ``codes``: the code
    list (exact, case-sensitive); ``min``/``max``: inclusive bounds on the typed value;
    ``cycle_year``: the value must be a year of the review cycle when one is given.
    """

    name: str
    kind: Kind = "str"
    required: bool = True
    nullable: bool = False
    codes: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    cycle_year: bool = False
    year: bool = False
    code: bool = False
    max_count: bool = False
    #: ``"text"``: a name or a code that must not hold what looks like personal data
    #: (``PERSONAL_VALUE``); ``"key"``: a pseudonymous key, not an identity number, phone number,
    #: date of birth or name.
    personal: str | None = None


def _c(name: str, kind: Kind = "str", **kw: Any) -> ColumnSpec:
    return ColumnSpec(name, kind, **kw)


_COUNT = dict(kind="int", min=0, max_count=True)

#: The contract, table by table (order = order of checks and of columns in messages).
TABLE_SPECS: dict[str, tuple[ColumnSpec, ...]] = {
    "schools": (
        _c("school_id", code=True), _c("school_name", personal="text"), _c("commune_code", code=True),
        _c("levels", codes=SCHOOL_LEVELS), _c("ethnic_boarding", "bool"),
    ),
    "communes": (
        _c("commune_code", code=True), _c("commune_name", personal="text"), _c("district_name", personal="text"),
        _c("province_name", personal="text"),
        _c("khmer_share", "float", min=0, max=1), _c("disadvantaged", "bool"),
        _c("merged_into_code", required=False, nullable=True, code=True),
        _c("merged_into_name", required=False, nullable=True, personal="text"),
    ),
    "graduates": (
        _c("school_id", code=True), _c("year", "int", year=True, cycle_year=True), _c("level", codes=LEVELS),
        _c("sex", required=False, codes=SEXES), _c("ethnicity", required=False, codes=ETHNICITIES),
        _c("destination", codes=ALL_DESTINATIONS), _c("students", **_COUNT),
    ),
    "counseling": (
        _c("school_id", code=True), _c("year", "int", year=True, cycle_year=True),
        _c("counselors", **_COUNT), _c("trained_counselors", **_COUNT),
        _c("sessions", required=False, nullable=True, **_COUNT),
        _c("students_counseled", required=False, nullable=True, **_COUNT),
    ),
    "students": (
        _c("student_key", personal="key"), _c("school_id", code=True), _c("year", "int", year=True, cycle_year=True),
        _c("level", codes=LEVELS), _c("sex", codes=SEXES), _c("ethnicity", codes=ETHNICITIES),
        _c("poor_household", "bool"), _c("residence_commune_code", nullable=True, code=True, personal="text"),
        _c("counseled", "bool"), _c("destination", codes=ALL_DESTINATIONS),
    ),
    "labour_demand": (
        _c("survey_year", "int", year=True), _c("enterprise_id"), _c("commune_code", code=True),
        _c("sector", codes=VSIC_SECTIONS), _c("trade", personal="text"), _c("qualification", codes=QUALIFICATIONS),
        _c("workers_needed", **_COUNT),
    ),
    "vocational_supply": (
        _c("year", "int", year=True), _c("institution_id"), _c("institution_name", personal="text"),
        _c("commune_code", code=True), _c("trade", personal="text"), _c("level", codes=VOC_LEVELS), _c("places", **_COUNT), _c("enrolled", **_COUNT),
        _c("graduated", **_COUNT), _c("employed_12m", nullable=True, **_COUNT),
    ),
}

#: Unique keys (graduates' key also takes sex/ethnicity when the file has those columns).
KEYS: dict[str, tuple[str, ...]] = {
    "schools": ("school_id",),
    "communes": ("commune_code",),
    "counseling": ("school_id", "year"),
    "graduates": ("school_id", "year", "level", "sex", "ethnicity", "destination"),
}
_OPTIONAL_KEY_PARTS = {"graduates": ("sex", "ethnicity")}

#: (table, column) -> (parent table, parent key)
REFERENCES: tuple[tuple[str, str, str, str], ...] = (
    ("schools", "commune_code", "communes", "commune_code"),
    ("graduates", "school_id", "schools", "school_id"),
    ("counseling", "school_id", "schools", "school_id"),
    ("students", "school_id", "schools", "school_id"),
    ("labour_demand", "commune_code", "communes", "commune_code"),
    ("vocational_supply", "commune_code", "communes", "commune_code"),
)


# -- vectorised cell tests (each returns a boolean Series, True = fine; NA cells count as fine) ---
