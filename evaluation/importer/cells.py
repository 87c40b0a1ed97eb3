"""Read one cell as the contract type it should hold, or say exactly why it cannot be.

Each reader returns ``(value, note)`` where ``note`` names a conversion worth logging (``None``
when the cell was already clean), or raises :class:`CellError` with what was expected.
Conventions of Vietnamese spreadsheets that are read, never guessed:

* thousands separators: "1.234" and "1 234" are 1234 in a count (Vietnamese formatting writes the
  thousands with dots); "1,234" or "12,5" in a count is a decimal, so it is an error;
* "-" (GSO convention: nothing to report) is 0 in a count;
* percentages: "25%" or a cell formatted as a percentage is refused where a count belongs; in a
  share column "25%", "25 %", "0,25" and 0.25 are all 0.25;
* a school year "2018-2019" in a year column is the graduation year 2019;
* a date (or an Excel serial date number such as 43466) where a year belongs is refused;
* true/false: "x", "có", "1", "true", "yes" and "không", "0", "false", "no"; an empty cell of
  a tick column is false.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from .headers import (
    BOOL_INDEX,
    DESTINATION_INDEX,
    ETHNICITY_INDEX,
    OTHER_ETHNIC_KEYS,
    LEVEL_INDEX,
    QUALIFICATION_INDEX,
    SCHOOL_LEVEL_INDEX,
    SECTOR_INDEX,
    SEX_INDEX,
    VOC_LEVEL_INDEX,
)
from .vntext import fold, nfc


class CellError(ValueError):
    """A cell that cannot be read as its column's type; ``expected`` says what it should hold."""

    def __init__(self, expected: str, check: str = "type", private: str | None = None) -> None:
        self.expected = expected
        self.check = check
        #: ``expected`` without anything taken from the cell, for a student list (it may be a birth date)
        self.private = private if private is not None else expected
        super().__init__(expected)


def shown(v: Any) -> str:
    """A cell as the user sees it, for messages."""
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d") if (v.hour, v.minute, v.second) == (0, 0, 0) else v.isoformat(sep=" ")
    return str(v)


def is_percent_format(fmt: str) -> bool:
    return "%" in (fmt or "")


_THOUSANDS_DOT = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+$")
_THOUSANDS_SPACE = re.compile(r"^[+-]?\d{1,3}( \d{3})+$")
_INT = re.compile(r"^[+-]?\d+$")
_DASHES = ("-", "–", "—")


def read_count(v: Any, fmt: str = "") -> tuple[int | None, str | None]:
    """A whole number (students, counselors...). ``None`` for an empty cell."""
    if v is None:
        return None, None
    if isinstance(v, bool):
        raise CellError("a whole number, not true/false")
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        raise CellError("a whole number, not a date (the cell is formatted as a date)", "date_as_number")
    if isinstance(v, (int, float)):
        if is_percent_format(fmt):
            raise CellError("a count of students or teachers, not a percentage (the cell is formatted as %); "
                            "write the number itself", "percentage")
        if isinstance(v, float) and (math.isnan(v) or not v.is_integer()):
            raise CellError("a whole number (e.g. 12)")
        return int(v), None
    s = nfc(v).replace("\u202f", " ")
    if s == "":
        return None, None
    if s in _DASHES:
        return 0, "'-' read as 0"
    if s.endswith("%"):
        raise CellError("a count of students or teachers, not a percentage; write the number itself", "percentage")
    if _INT.match(s):
        return int(s), "number stored as text"
    if _THOUSANDS_DOT.match(s):
        return int(s.replace(".", "")), "Vietnamese thousands separator '.' read (e.g. '1.234' = 1234)"
    if _THOUSANDS_SPACE.match(s):
        return int(s.replace(" ", "")), "thousands separated by spaces read"
    if re.match(r"^[+-]?\d+,\d+$", s):
        raise CellError("a whole number: ',' is the decimal mark in Vietnamese, so this is not a whole number")
    raise CellError("a whole number (e.g. 12; thousands may be written '1.234')")


def read_year(v: Any, fmt: str = "") -> tuple[int | None, str | None]:
    """A calendar year (graduation year, survey year)."""
    if v is None:
        return None, None
    if isinstance(v, (dt.datetime, dt.date)):
        raise CellError("a year such as 2019, not a date; write the year alone", "date_as_year")
    if isinstance(v, bool):
        raise CellError("a year such as 2019")
    if isinstance(v, (int, float)):
        if isinstance(v, float) and not v.is_integer():
            raise CellError("a year such as 2019")
        y = int(v)
        if 1990 <= y <= 2100:
            return y, None
        if 20000 <= y <= 80000:  # an Excel serial date number (1954-2119)
            d = dt.date(1899, 12, 30) + dt.timedelta(days=y)
            raise CellError(f"a year such as 2019, not a date stored as a number (Excel serial {y} is "
                            f"{d.isoformat()}); write the year alone", "date_as_year",
                            private="a year such as 2019, not a date; write the year alone")
        raise CellError("a year between 1990 and 2100")
    s = nfc(v)
    if s == "":
        return None, None
    m = re.fullmatch(r"(?:(?:nam hoc|nh|khoa|nam)\s*)?((?:19|20)\d\d)\s*[-–/]\s*((?:19|20)\d\d)", fold(s).replace(" ", " ")) \
        or re.fullmatch(r"(?:(?:nam hoc|nh|khoa|nam)\s*)?((?:19|20)\d\d)\s+((?:19|20)\d\d)", fold(s))
    if m and int(m.group(2)) == int(m.group(1)) + 1:
        return int(m.group(2)), "school year read as its graduation year (2018-2019 -> 2019)"
    m = re.fullmatch(r"(?:nam\s+)?((?:19|20)\d\d)", fold(s))
    if m:
        return int(m.group(1)), "year stored as text"
    if re.fullmatch(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}", s):
        raise CellError("a year such as 2019, not a date; write the year alone", "date_as_year")
    raise CellError("a year such as 2019 (or a school year such as 2018-2019)")


def read_share(v: Any, fmt: str = "", *, percent_header: bool = False) -> tuple[float | None, str | None]:
    """A fraction 0..1 (``khmer_share``); "25%", "25 %", "0,25" and a %-formatted 0.25 are 0.25."""
    if v is None:
        return None, None
    if isinstance(v, bool) or isinstance(v, (dt.datetime, dt.date)):
        raise CellError("a share between 0 and 1 (e.g. 0.25 or 25%)")
    if isinstance(v, (int, float)):
        x = float(v)
        if percent_header and not is_percent_format(fmt):
            return x / 100, "percent column divided by 100"
        return x, None
    s = nfc(v).replace(" ", "")
    if s == "":
        return None, None
    pct = s.endswith("%") or percent_header
    s2 = s.rstrip("%").replace(",", ".")
    try:
        x = float(s2)
    except ValueError:
        raise CellError("a share between 0 and 1 (e.g. 0.25 or 25%)") from None
    if pct:
        return x / 100, "percentage read as a share"
    return x, "number stored as text" if "," not in s else "decimal comma read"


def read_bool(v: Any, fmt: str = "", *, tick: bool = True) -> tuple[bool | None, str | None]:
    """True/false; with ``tick`` an empty cell is false (a tick column marks only the yes rows)."""
    if v is None or (isinstance(v, str) and not v.strip()):
        return (False, "empty tick cell read as false") if tick else (None, None)
    if isinstance(v, bool):
        return v, None
    if isinstance(v, (int, float)) and v in (0, 1):
        return bool(v), None
    f = fold(str(v))
    if f in BOOL_INDEX:
        return BOOL_INDEX[f], None
    if str(v).strip() in ("✓", "✔", "√", "v", "X"):
        return True, None
    raise CellError("yes or no (x, có, 1, true / không, 0, false, or an empty cell)")


def _coded(index: dict, what: str, codes: tuple[str, ...]):
    def read(v: Any, fmt: str = "") -> tuple[str | None, str | None]:
        if v is None or (isinstance(v, str) and not v.strip()):
            return None, None
        raw = shown(v)
        f = fold(raw)
        if f in index:
            code = index[f]
            return code, (None if raw == code else f"'{raw}' read as {code}")
        raise CellError(f"{what}: one of {', '.join(codes)} (or their Vietnamese names)", "code")
    return read


read_level = _coded(LEVEL_INDEX, "a level", ("THCS", "THPT"))
read_school_levels = _coded(SCHOOL_LEVEL_INDEX, "the levels the school teaches", ("THCS", "THPT", "THCS,THPT"))
read_sex = _coded(SEX_INDEX, "a sex", ("F (nữ)", "M (nam)"))
read_qualification = _coded(QUALIFICATION_INDEX, "a qualification",
                            ("none", "elementary", "intermediate", "college", "university"))
read_voc_level = _coded(VOC_LEVEL_INDEX, "a vocational level", ("elementary", "intermediate", "college"))


def read_destination(v: Any, fmt: str = "") -> tuple[str | None, str | None]:
    from ..contract import ALL_DESTINATIONS

    return _coded(DESTINATION_INDEX, "a destination", ALL_DESTINATIONS)(v, fmt)


def read_sector(v: Any, fmt: str = "") -> tuple[str | None, str | None]:
    """A VSIC 2018 section: the letter ("F"), its name ("Xây dựng") or the template's drop-down text
    ("F - Xây dựng"). Anything else is kept as written for the contract's code check to report."""
    if v is None or (isinstance(v, str) and not v.strip()):
        return None, None
    raw = shown(v)
    code = SECTOR_INDEX.get(fold(raw))
    if code is None:
        return raw.strip().upper(), None
    return code, (None if raw.strip() == code else f"'{raw}' read as {code}")


def read_ethnicity(v: Any, fmt: str = "") -> tuple[str | None, str | None]:
    """kinh / khmer / hoa / unknown by name; the name of one of Vietnam's other ethnic groups
    (``headers.OTHER_ETHNIC_GROUPS``) is ``other``. Any other text is refused: a student's name typed in
    the column must not pass as an ethnic group."""
    if v is None or (isinstance(v, str) and not v.strip()):
        return None, None
    raw = shown(v)
    f = fold(raw)
    if f in ETHNICITY_INDEX:
        code = ETHNICITY_INDEX[f]
        return code, (None if raw == code else f"'{raw}' read as {code}")
    key = f.replace(" ", "")
    if key.startswith("dantoc"):  # "dân tộc Tày"
        key = key[len("dantoc"):]
    if key in OTHER_ETHNIC_KEYS:
        return "other", f"'{raw}' read as other (an ethnic group other than Kinh, Khmer and Hoa)"
    raise CellError("an ethnic group (Kinh, Khmer, Hoa, the name of another of Vietnam's 54 groups, or 'không rõ')",
                    "code")


def read_text(v: Any, fmt: str = "") -> tuple[str | None, str | None]:
    """Text (ids, names): numbers without a decimal part become their digits ("29266")."""
    if v is None:
        return None, None
    if isinstance(v, bool):
        return ("true" if v else "false"), None
    if isinstance(v, float):
        if v.is_integer():
            return str(int(v)), None
        return repr(v), None
    if isinstance(v, int):
        return str(v), None
    if isinstance(v, (dt.datetime, dt.date)):
        return shown(v), None
    s = nfc(v)
    return (s or None), None


def read_date_key(v: Any) -> str | None:
    """A birth date as ``YYYY-MM-DD`` (day/month/year as Vietnamese write it), or the folded
    text when it is not a date; only ever used inside the pseudonymous key."""
    if v is None:
        return None
    if isinstance(v, (dt.datetime, dt.date)):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        n = int(v)
        if 1900 <= n <= 2100:
            return str(n)
        return (dt.date(1899, 12, 30) + dt.timedelta(days=n)).isoformat()
    s = nfc(v)
    m = re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})", s)
    if m:
        d, mo, y = (int(x) for x in m.groups())
        try:
            return dt.date(y, mo, d).isoformat()
        except ValueError:
            return fold(s)
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", s)
    if m:
        try:
            return dt.date(*(int(x) for x in m.groups())).isoformat()
        except ValueError:
            return fold(s)
    return fold(s) or None
