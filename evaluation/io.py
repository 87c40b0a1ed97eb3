"""Reading the files of a cohort data folder, as they are, before any validation.

* a table is ``NAME.csv`` (UTF-8, with or without a byte-order mark, comma-separated, header row)
  or ``NAME.parquet``; both at once is an error;
* CSV cells are read as text first, so that a bad cell is reported with its line and value rather
  than failing the whole column; surrounding spaces are trimmed, an empty cell is missing, blank
  lines are skipped but counted (so line numbers match the file);
* Parquet is read through pyarrow with its stored types; text columns become pandas string
  columns (Arrow-backed, not Python objects);
* every frame is indexed by its 0-based data-row position in the file (CSV line = index + 2,
  Parquet row = index + 1).

Validation (:mod:`evaluation.validation`) and loading (:mod:`evaluation.data`) read files only
through this module.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

#: File suffixes a table may have, in order of preference in messages.
SUFFIXES: tuple[str, ...] = (".csv", ".parquet")


class TableReadError(ValueError):
    """A table file that cannot be read; ``path`` and ``reason`` name the file and the problem."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


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
        # index_col=False: a data line with more fields than the header (a trailing comma, an unquoted
        # comma in a name) must not turn the first columns into the index and shift every value left
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            df = pd.read_csv(path, dtype="str", keep_default_na=False, na_values=[""], encoding="utf-8-sig",
                             skip_blank_lines=False, index_col=False)
        if any(issubclass(w.category, pd.errors.ParserWarning) for w in caught):
            line, n = _first_long_line(path)
            raise TableReadError(path, f"line {line} has more values than the header has columns ({n}); quote a "
                                       "value that holds a comma, or give the extra column a header")
    except TableReadError:
        raise
    except UnicodeDecodeError as exc:
        raise TableReadError(path, f"its bytes are not UTF-8 (first bad byte at offset {exc.start}); "
                                   "save it from Excel as 'CSV UTF-8'") from None
    except pd.errors.EmptyDataError:
        raise TableReadError(path, "the file has no header row") from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise TableReadError(path, f"pandas could not parse it: {str(exc).strip()}") from None
    _refuse_duplicate_headers(path, [str(c) for c in _header_row(path)])
    if len(df.columns) == 1:  # one column whose name holds the others: another separator than the comma
        for sep, name in ((";", "';'"), ("\t", "tabs")):
            if sep in str(df.columns[0]):
                raise TableReadError(path, f"its columns are separated by {name}, not commas (Excel saves CSV so in a "
                                           "Vietnamese or European locale); save it from Excel as 'CSV UTF-8 (Comma "
                                           "delimited)'")
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


def _first_long_line(path: Path) -> tuple[int, int]:
    """The first line (1-based) with more non-empty values than the header, and the header's width
    (read only when pandas found such a line)."""
    import csv

    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        n = len(next(reader, []))
        for row in reader:
            while len(row) > n and row[-1].strip() == "":
                row.pop()
            if len(row) > n:
                return reader.line_num, n
    return 2, n


def _header_row(path: Path) -> list[str]:
    """The header row of a CSV file as written (pandas renames a repeated name to ``name.1``)."""
    import csv

    with open(path, encoding="utf-8-sig", newline="") as f:
        return next(csv.reader(f), [])


def _refuse_duplicate_headers(path: Path, names: list[str]) -> None:
    """A column name given twice: which of the two columns is meant cannot be told."""
    seen: dict[str, int] = {}
    for i, name in enumerate(names, start=1):
        key = name.strip()
        if not key:
            continue
        if key in seen:
            raise TableReadError(path, f"column '{key}' appears twice in the header (columns {seen[key]} and {i}); "
                                       "keep one of them")
        seen[key] = i


def _refuse_nested_columns(path: Path, schema) -> None:
    """A column of lists, structures, maps or raw bytes holds no cell values a table can have (and
    raw bytes need not be text at all)."""
    import pyarrow as pa

    for f in schema:
        t = f.type.value_type if pa.types.is_dictionary(f.type) else f.type
        if pa.types.is_nested(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t) \
                or pa.types.is_fixed_size_binary(t):
            raise TableReadError(path, f"column {f.name!r} holds {t} values, not one number, text or true/false "
                                       "per cell; write it as plain values")


def _read_parquet(path: Path) -> pd.DataFrame:
    # Column by column: each Arrow column is converted and freed before the next is read, so the
    # peak memory is the frame plus one column, not the frame twice (10 million students: about
    # 1.4 GB instead of 1.8 GB). Index columns stored by pandas are dropped (rows are positions).
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
        meta = pf.schema_arrow.pandas_metadata or {}
        index_cols = {c for c in meta.get("index_columns", []) if isinstance(c, str)}
        _refuse_duplicate_headers(path, [str(n) for n in pf.schema_arrow.names if n not in index_cols])
        _refuse_nested_columns(path, pf.schema_arrow)
        data = {}
        for name in pf.schema_arrow.names:
            if name in index_cols:
                continue
            col = pf.read(columns=[name]).column(0)
            data[str(name).strip()] = col.to_pandas()
            del col
    except TableReadError:
        raise
    except Exception as exc:  # pyarrow raises several types for a broken file
        raise TableReadError(path, f"pyarrow could not read it: {type(exc).__name__}: {exc}") from None
    df = pd.DataFrame(data, copy=False)
    for c in df.columns:  # dictionary-encoded text arrives as categorical: make it plain text
        if isinstance(df[c].dtype, pd.CategoricalDtype) and pd.api.types.is_string_dtype(df[c].cat.categories):
            df[c] = df[c].astype("str")
    return df.reset_index(drop=True)
