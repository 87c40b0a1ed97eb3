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

#: File suffixes a table may have, in order of preference in messages.
SUFFIXES: tuple[str, ...] = (".csv", ".parquet")


class TableReadError(ValueError):
    """A table file that cannot be read; ``path`` and ``reason`` name the file and the problem."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class CohortValidationError(ValueError):
    """The folder breaks the data contract. ``report`` holds every issue; the message is the
    formatted report."""

    def __init__(self, report: ValidationReport) -> None:
        self.report = report
        super().__init__(report.format())


def table_files(folder: str | Path, name: str) -> list[Path]:
    """The files that hold table ``name`` in ``folder`` (``NAME.csv`` and/or ``NAME.parquet``)."""
    folder = Path(folder)
    return [folder / f"{name}{suf}" for suf in SUFFIXES if (folder / f"{name}{suf}").is_file()]


def read_table(folder: str | Path, name: str) -> tuple[pd.DataFrame, Path]:
    """Read table ``name`` from ``folder`` as it is in the file; return it and the file's path.

    CSV: every column as text (``str``), spaces trimmed, empty cells missing, index = 0-based data
    row (line - 2). Parquet: stored types, index = 0-based row. Raises ``FileNotFoundError`` when
    there is no such table and :class:`TableReadError` (naming the file) when both a CSV and a
    Parquet file exist or the file cannot be read.
    """
    found = table_files(folder, name)
    if not found:
        raise FileNotFoundError(f"{Path(folder) / name}.csv or .parquet: no such table file")
    if len(found) > 1:
        raise TableReadError(found[0], f"both {found[0].name} and {found[1].name} exist; keep only one")
    path = found[0]
    if path.suffix == ".csv":
        return _read_csv(path), path
    return _read_parquet(path), path


def _read_csv(path: Path) -> pd.DataFrame:
    if path.stat().st_size == 0:
        raise TableReadError(path, "the file is empty")
    try:
        df = pd.read_csv(path, dtype="str", keep_default_na=False, na_values=[""], encoding="utf-8-sig",
                         skip_blank_lines=False)
    except UnicodeDecodeError as exc:
        raise TableReadError(path, f"its bytes are not UTF-8 (first bad byte at offset {exc.start}); "
                                   "save it from Excel as 'CSV UTF-8'") from None
    except pd.errors.EmptyDataError:
        raise TableReadError(path, "the file has no header row") from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise TableReadError(path, f"pandas could not parse it: {str(exc).strip()}") from None
    df.columns = [str(c).strip() for c in df.columns]
    unnamed = [c for c in df.columns if c.startswith("Unnamed: ")]
    for c in df.columns:
        s = df[c].str.strip()
        df[c] = s.where(s != "")
    if unnamed:  # a trailing comma on every line makes an empty, nameless column
        empty = [c for c in unnamed if df[c].isna().all()]
        df = df.drop(columns=empty)
    # blank lines (and lines of commas only) keep their place in the numbering but are not rows
    blank = df.isna().all(axis=1)
    if blank.any():
        df = df[~blank.to_numpy()]
    return df


def _read_parquet(path: Path) -> pd.DataFrame:
    # Column by column: each Arrow column is converted and freed before the next is read, so the
    # peak memory is the frame plus one column, not the frame twice (10 million students: about
    # 1.4 GB instead of 1.8 GB). Index columns stored by pandas are dropped (rows are positions).
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
        meta = pf.schema_arrow.pandas_metadata or {}
        index_cols = {c for c in meta.get("index_columns", []) if isinstance(c, str)}
        data = {}
        for name in pf.schema_arrow.names:
            if name in index_cols:
                continue
            col = pf.read(columns=[name]).column(0)
            data[str(name).strip()] = col.to_pandas()
            del col
    except Exception as exc:  # pyarrow raises several types for a broken file
        raise TableReadError(path, f"pyarrow could not read it: {type(exc).__name__}: {exc}") from None
    df = pd.DataFrame(data, copy=False)
    for c in df.columns:  # dictionary-encoded text arrives as categorical: make it plain text
        if isinstance(df[c].dtype, pd.CategoricalDtype) and pd.api.types.is_string_dtype(df[c].cat.categories):
            df[c] = df[c].astype("str")
    return df.reset_index(drop=True)


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
