"""Load a cohort data folder: read its tables, validate them against the data contract, type them.

Data moves one way: the folder the user brings (never written here) -> :func:`load_cohort` ->
a :class:`CohortData` of validated, typed tables. Nothing downstream reads the folder directly.

Reading rules:

* a table is ``NAME.csv`` (UTF-8, with or without a byte-order mark, comma-separated, header row)
  or ``NAME.parquet``; both at once is an error;
* CSV cells are read as text first, so that a bad cell is reported with its line and value rather
  than failing the whole column; surrounding spaces are trimmed, an empty cell is missing, blank
  lines are skipped but counted (so line numbers match the file);
* Parquet is read through pyarrow with its stored types; text columns become pandas string
  columns (Arrow-backed, not Python objects);
* every frame is indexed by its 0-based data-row position in the file (CSV line = index + 2,
  Parquet row = index + 1) until it is typed; typed tables have a fresh 0..n-1 index.

Typed tables (after validation): ids, codes and names are pandas ``str``; ``year`` and counts
``int64`` (``Int64`` for an optional count column with empty cells, e.g. ``sessions``); bools
``bool``; ``khmer_share`` ``float64``. Extra columns are kept as read.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import pandas as pd

from .contract import ALL_TABLES
from .validation import ValidationReport, check_tables, read_folder

from .io import SUFFIXES, TableReadError, read_table, table_files  # noqa: F401 (re-exported)


class CohortValidationError(ValueError):
    """The folder breaks the data contract. ``report`` holds every issue; the message is the
    formatted report."""

    def __init__(self, report: ValidationReport) -> None:
        self.report = report
        super().__init__(report.format())


@dataclass(frozen=True)
class CohortData:
    """A validated, typed cohort data folder.

    ``schools``, ``communes``, ``graduates``, ``counseling`` always; ``students``,
    ``labour_demand``, ``vocational_supply`` or ``None`` when the folder has no such table.
    ``files``: table -> the file it came from. ``synthetic``: the folder holds a ``truth.json``
    marked ``"synthetic": true`` (the generated sample). ``report``: the validation report (its
    warnings and notes; it has no errors).
    """

    folder: Path
    schools: pd.DataFrame
    communes: pd.DataFrame
    graduates: pd.DataFrame
    counseling: pd.DataFrame
    students: pd.DataFrame | None
    labour_demand: pd.DataFrame | None
    vocational_supply: pd.DataFrame | None
    files: dict[str, Path]
    synthetic: bool
    report: ValidationReport

    def table(self, name: str) -> pd.DataFrame | None:
        """A table by its contract name."""
        if name not in ALL_TABLES:
            raise KeyError(f"{name!r} is not a table of the data contract ({', '.join(ALL_TABLES)})")
        return getattr(self, name)

    @property
    def years(self) -> list[int]:
        """Graduation years present in ``graduates``, sorted."""
        return sorted(int(y) for y in self.graduates["year"].unique())


def is_synthetic(folder: str | Path) -> bool:
    """True when ``folder/truth.json`` exists and says ``"synthetic": true``."""
    p = Path(folder) / "truth.json"
    if not p.is_file():
        return False
    try:
        return json.loads(p.read_text(encoding="utf-8")).get("synthetic") is True
    except (ValueError, AttributeError):
        return False


def load_cohort(folder: str | Path, *, years: Iterable[int] | None = None,
                unknown_share_warning: float = 0.10) -> CohortData:
    """Read, validate and type a cohort data folder.

    ``years``: graduation years of the review cycle (rows outside are errors); ``None`` accepts any
    plausible year. ``unknown_share_warning``: fraction (0..1) of ``unknown`` destinations above
    which a level-year or school-year is flagged in the report's warnings.

    Raises :class:`CohortValidationError` (message = the formatted report, ``.report`` = the report)
    when the folder breaks the contract.
    """
    folder = Path(folder)
    tables, files, collected = read_folder(folder)
    report, typed = check_tables(tables, files, years=years, unknown_share_warning=unknown_share_warning,
                                 folder=folder, prior=collected)
    if not report.ok:
        raise CohortValidationError(report)
    out = {name: (typed[name].reset_index(drop=True) if name in typed else None) for name in ALL_TABLES}
    return CohortData(folder=folder, files=dict(files), synthetic=is_synthetic(folder), report=report, **out)
