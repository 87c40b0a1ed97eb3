"""Student lists: pseudonymous keys, direct identifiers dropped, graduates derived.

Student records are personal data. At import every student gets a **pseudonymous key**,
``student_key = "P" + HMAC-SHA256(key, identity)`` (first 20 hex digits, 80 bits), where
``identity`` is the student's own identifier when the list has one (national ID, school's
student code), else the student's name (folded: no case, no diacritics) and date of birth. The
secret ``key`` comes from the environment variable ``EVALUATION_PSEUDONYM_KEY`` (at least 16
characters) or from a key file named by ``EVALUATION_PSEUDONYM_KEY_FILE`` (or ``--key-file``)
that lies **outside** the repository and outside the output folder; without one the import
refuses to run. The same key gives the same student the same key in every list and every year,
so lists can be linked; without the key nobody can go back from the student_key to the student.

Then the name, the date of birth and the raw identifier are dropped before anything is written:
only the contract's columns are kept, and no message or report ever shows their values.
"""
from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..paths import ROOT
from .issues import ImportIssue, KeyMissing

KEY_ENV = "EVALUATION_PSEUDONYM_KEY"
KEY_FILE_ENV = "EVALUATION_PSEUDONYM_KEY_FILE"
MIN_KEY_LENGTH = 16
#: Fields of a student list that identify a person directly; never written anywhere.
DIRECT_IDENTIFIERS: tuple[str, ...] = ("person_name", "birth_date", "person_id")


@dataclass(frozen=True)
class PseudonymKey:
    """The secret key and where it came from (``source`` names the variable or file, never the
    key). ``fingerprint`` identifies the key in reports without revealing it."""

    secret: bytes
    source: str

    @property
    def fingerprint(self) -> str:
        return hmac.new(self.secret, b"evaluation-key-fingerprint", hashlib.sha256).hexdigest()[:12]

    def student_key(self, identity: str) -> str:
        """``"P"`` + the first 20 hex digits of HMAC-SHA256(secret, identity)."""
        return "P" + hmac.new(self.secret, identity.encode("utf-8"), hashlib.sha256).hexdigest()[:20]


def _key_issue(expected: str) -> KeyMissing:
    return KeyMissing([ImportIssue(check="pseudonym_key", file="(student list)", expected=expected)])


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def load_key(*, key_file: str | Path | None = None, out: Path | None = None,
             environ: dict[str, str] | None = None) -> PseudonymKey:
    """The pseudonymisation key: ``key_file``, else ``$EVALUATION_PSEUDONYM_KEY_FILE``, else
    ``$EVALUATION_PSEUDONYM_KEY``. Raises :class:`KeyMissing` when there is none, when it is
    shorter than 16 characters, or when the key file lies inside the repository or the output
    folder (a key next to the data it protects protects nothing)."""
    env = os.environ if environ is None else environ
    path = key_file or env.get(KEY_FILE_ENV)
    if path:
        p = Path(path).expanduser()
        if not p.is_file():
            raise _key_issue(f"a pseudonymisation key file at {p}: there is no such file")
        if _inside(p, ROOT):
            raise _key_issue(f"a key file outside the repository: {p} is inside {ROOT}, where it could be "
                             "committed or shared with the data; move it (e.g. to your home folder)")
        if out is not None and _inside(p, out):
            raise _key_issue(f"a key file outside the output folder {out}")
        secret = p.read_bytes().strip()
        source = f"key file {p.name}"
    elif env.get(KEY_ENV):
        secret = env[KEY_ENV].strip().encode("utf-8")
        source = f"environment variable {KEY_ENV}"
    else:
        raise _key_issue(
            f"a secret pseudonymisation key before student records are imported: set the environment variable "
            f"{KEY_ENV} (at least {MIN_KEY_LENGTH} characters, e.g. from `python -c \"import secrets; "
            f"print(secrets.token_hex(32))\"`) or {KEY_FILE_ENV} (a file outside the repository), or pass "
            "--key-file; keep the same key for every import of the review so students can be linked")
    if len(secret) < MIN_KEY_LENGTH:
        raise _key_issue(f"a pseudonymisation key of at least {MIN_KEY_LENGTH} characters (the one from {source} "
                         f"has {len(secret)})")
    return PseudonymKey(secret=secret, source=source)


def identity(person_id: str | None, name_folded: str | None, birth: str | None) -> str | None:
    """The text that is hashed: ``id:<identifier>`` or ``nd:<folded name>|<birth date>``."""
    if person_id:
        return "id:" + "".join(str(person_id).split()).upper()
    if name_folded and birth:
        return f"nd:{name_folded}|{birth}"
    return None


GRADUATE_KEYS: tuple[str, ...] = ("school_id", "year", "level", "sex", "ethnicity", "destination")


def graduates_from_students(students: pd.DataFrame) -> pd.DataFrame:
    """Graduates (one row per school, year, level, sex, ethnicity and destination, column
    ``students`` = number of student rows) aggregated from student records."""
    keys = [c for c in GRADUATE_KEYS if c in students.columns]
    g = students.groupby(keys, sort=True, dropna=False).size().rename("students").reset_index()
    return g
