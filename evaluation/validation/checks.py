"""Cross-row and cross-table rules (keys, references, levels, microdata), warnings, and the entry points."""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd
import pyarrow
from pandas.api import types as ptypes

from ..io import TableReadError, read_table, table_files
from ..contract import (ALL_DESTINATIONS, ALL_TABLES, DESTINATIONS, ETHNICITIES, LEVELS, REQUIRED_TABLES, SEXES, UNKNOWN,
    SCHOOL_LEVELS, NOT_SHOWN, _CODE_RE, _PERSONAL_RE, KEYS, _OPTIONAL_KEY_PARTS, REFERENCES)
from .report import ValidationReport, _Collector, _as_text
from .schema import _raw_schema, _typed_schema, _run_schema, coerce_table

# ------------------------------------------------------------------------------------------------
# Cross-row and cross-table rules (vectorised)
# ------------------------------------------------------------------------------------------------
def _present(df: pd.DataFrame | None, *cols: str) -> bool:
    return df is not None and all(c in df.columns for c in cols)


def _check_personal(raw: pd.DataFrame, out: _Collector) -> None:
    norm = [_normalise_name(c) for c in raw.columns]
    for col, n in zip(raw.columns, norm):
        if n != "student_key" and _PERSONAL_RE.search(n):
            out.add(check="personal_data", table="students", column=col, value="(values not shown)",
                    expected="no name, national ID, birth date or contact column in student microdata "
                             "(personal data): delete this column and keep only the pseudonymous student_key")


def _normalise_name(col: str) -> str:
    s = unicodedata.normalize("NFKD", str(col).replace("đ", "d").replace("Đ", "D"))
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", "_", s).strip("_")


def _check_keys(table: str, df: pd.DataFrame, raw: pd.DataFrame, out: _Collector) -> None:
    key = [c for c in KEYS[table] if c in df.columns or c not in _OPTIONAL_KEY_PARTS.get(table, ())]
    if not _present(df, *key):
        return
    k = df[key]
    complete = k.notna().all(axis=1)
    k = k[complete]
    dup = k.duplicated(keep=False)
    if not dup.any():
        return
    d = k[dup]
    first = d.groupby(key, sort=False, observed=True, dropna=False).ngroup()
    first_row = pd.Series(d.index, index=d.index).groupby(first.to_numpy()).transform("min")
    off = out.row_offset(table)
    word = "row" if off == 1 else "line"
    values = _as_text(raw.loc[d.index, key[0]]).to_numpy(dtype=object) if len(key) == 1 else \
        _join_text(raw.loc[d.index, key])
    count = first.map(first.value_counts())
    expected = ("a unique " + " + ".join(key) + " (the same key is on " + count.astype(str) + " " + word
                + "s, first on " + word + " " + (first_row + off).astype(str) + ")")
    out.add(check="duplicate_key", table=table, rows=d.index.to_numpy(), column=", ".join(key),
            value=values, expected=expected.to_numpy())


def _join_text(df: pd.DataFrame) -> np.ndarray:
    cols = [_as_text(df[c]) for c in df.columns]
    s = cols[0]
    for c in cols[1:]:
        s = s + " / " + c
    return s.to_numpy(dtype=object)


def _post2025_units(communes: pd.DataFrame) -> pd.Series:
    """Post-2025 commune code -> the pre-2025 units it was formed from (text), from the communes
    table's ``merged_into_code`` and the shipped 2025 crosswalk."""
    from ..reference import commune_crosswalk

    pairs = [commune_crosswalk()[["commune_code", "merged_into_code"]]]
    if _present(communes, "merged_into_code"):
        pairs.append(communes[["commune_code", "merged_into_code"]])
    both = pd.concat(pairs, ignore_index=True).dropna().astype(str).drop_duplicates()
    return both.groupby("merged_into_code")["commune_code"].agg(lambda s: ", ".join(sorted(s)))


def _check_references(tables: dict[str, pd.DataFrame], raws: dict[str, pd.DataFrame], out: _Collector) -> None:
    post = None
    for child, col, parent, pkey in REFERENCES:
        c, p = tables.get(child), tables.get(parent)
        if not (_present(c, col) and _present(p, pkey)):
            continue
        v = c[col]
        bad = v.notna() & ~v.isin(p[pkey].dropna().unique())
        if bad.any() and parent == "communes":
            # a commune of the other geography: the communes after 1/7/2025 in a folder keyed by
            # the units before it (the contract's key) gets its own message naming those units
            post = _post2025_units(p) if post is None else post
            other = bad & v.astype(str).isin(post.index)
            if other.any():
                idx = v.index[other.to_numpy()]
                formed = v[idx].astype(str).map(post)
                out.add(check="geography", table=child, rows=idx.to_numpy(), column=col,
                        value=_as_text(raws[child].loc[idx, col]).to_numpy(),
                        expected=("a commune before 1/7/2025 listed in communes (this is a commune after the "
                                  "2025 reorganisation, formed from " + formed + ")").to_numpy())
                bad &= ~other
        if bad.any():
            idx = v.index[bad.to_numpy()]
            values = _as_text(raws[child].loc[idx, col])  # not a code (spaces): free text, perhaps a name
            out.add(check="reference", table=child, rows=idx.to_numpy(), column=col,
                    value=values.where(~values.str.contains(r"\s"), NOT_SHOWN).to_numpy(),
                    expected=f"a {pkey} listed in {parent}")


def _check_levels_taught(tables: dict[str, pd.DataFrame], raws: dict[str, pd.DataFrame], out: _Collector) -> None:
    g, s = tables.get("graduates"), tables.get("schools")
    if not (_present(g, "school_id", "level") and _present(s, "school_id", "levels")):
        return
    sch = s.loc[s["levels"].isin(SCHOOL_LEVELS) & s["school_id"].notna(), ["school_id", "levels"]]
    sch = sch.drop_duplicates("school_id")
    lv = g["school_id"].map(pd.Series(sch["levels"].to_numpy(), index=sch["school_id"].to_numpy()))
    known = lv.notna() & g["level"].isin(LEVELS)
    taught = (lv == g["level"]) | (lv == "THCS,THPT")
    bad = known & ~taught.fillna(False).astype(bool)
    if bad.any():
        idx = g.index[bad.to_numpy()]
        expected = ("a level taught by school " + g.loc[idx, "school_id"].astype(str) + " (levels "
                    + lv[idx].astype(str) + " in schools)")
        out.add(check="level_not_taught", table="graduates", rows=idx.to_numpy(), column="level",
                value=_as_text(raws["graduates"].loc[idx, "level"]).to_numpy(), expected=expected.to_numpy())


def _check_destination_level(table: str, df: pd.DataFrame, raw: pd.DataFrame, out: _Collector) -> None:
    if not _present(df, "level", "destination"):
        return
    lev, dest = df["level"], df["destination"]
    bad = pd.Series(False, index=df.index)
    for level, allowed in DESTINATIONS.items():  # loop over the two levels, not over rows
        bad |= ((lev == level) & dest.isin(ALL_DESTINATIONS) & ~dest.isin(allowed)).fillna(False).astype(bool)
    if bad.any():
        idx = df.index[bad.to_numpy()]
        exp = {lv: f"a destination after {lv}: " + ", ".join(ds) for lv, ds in DESTINATIONS.items()}
        out.add(check="destination_level", table=table, rows=idx.to_numpy(), column="destination",
                value=_as_text(raw.loc[idx, "destination"]).to_numpy(),
                expected=lev[idx].map(exp).to_numpy())


def _check_trained(df: pd.DataFrame, raw: pd.DataFrame, out: _Collector) -> None:
    if not _present(df, "counselors", "trained_counselors"):
        return
    t, c = df["trained_counselors"], df["counselors"]
    bad = (t > c).fillna(False).astype(bool) & (c >= 0).fillna(False).astype(bool)
    if bad.any():
        idx = df.index[bad.to_numpy()]
        out.add(check="range", table="counseling", rows=idx.to_numpy(), column="trained_counselors",
                value=_as_text(raw.loc[idx, "trained_counselors"]).to_numpy(),
                expected=("at most the number of counselors on the same row ("
                          + c[idx].astype("int64").astype(str) + ")").to_numpy())


def _check_employed(df: pd.DataFrame, raw: pd.DataFrame, out: _Collector) -> None:
    """Graduates employed within 12 months cannot outnumber the graduates of the same row."""
    if not _present(df, "graduated", "employed_12m"):
        return
    e, g = df["employed_12m"], df["graduated"]
    bad = (e > g).fillna(False).astype(bool) & (g >= 0).fillna(False).astype(bool)
    if bad.any():
        idx = df.index[bad.to_numpy()]
        out.add(check="range", table="vocational_supply", rows=idx.to_numpy(), column="employed_12m",
                value=_as_text(raw.loc[idx, "employed_12m"]).to_numpy(),
                expected=("at most the number graduated on the same row ("
                          + g[idx].astype("int64").astype(str) + ")").to_numpy())


def _check_zero_years(df: pd.DataFrame, out: _Collector) -> None:
    """A level-year of graduates whose counts are all 0: a warning (the sheet may not have been
    filled in; the review reports that year's rate as not computable rather than 0/0)."""
    if not _present(df, "level", "year", "students"):
        return
    ok = df["level"].isin(LEVELS) & df["year"].notna() & df["students"].notna()
    d = df[ok.fillna(False).astype(bool).to_numpy()]
    if d.empty:
        return
    tot = d.groupby(["level", "year"], observed=True)["students"].agg(["sum", "size"])
    zero = tot[tot["sum"] == 0]
    for (level, year), r in zero.iterrows():  # one issue per level-year (a handful at most)
        out.add(check="zero_year", table="graduates", severity="warning", column="students", value=None,
                expected=f"at least one graduate of {level} in {int(year)}: all {int(r['size'])} rows of this level "
                         "and year have 0 students; fill in the counts, or delete the rows of a year without data")


def _arrow_column(s: pd.Series) -> "pyarrow.Array":
    """A column as an Arrow array without copying Arrow-backed text (dictionary text decoded)."""
    arr = pyarrow.array(s.array) if isinstance(s.array, pd.api.extensions.ExtensionArray) else pyarrow.array(s.to_numpy())
    if pyarrow.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    return arr


def _count_rows(df: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """Rows per distinct ``key`` (missing values form their own groups), as a small frame with a
    ``rows`` column. Arrow's multi-threaded hash aggregation: a few seconds for 10 million rows,
    no copy of the big frame."""
    tbl = pyarrow.table({c: _arrow_column(df[c]) for c in key})
    res = tbl.group_by(key).aggregate([([], "count_all")]).rename_columns(key + ["rows"])
    out = res.to_pandas()
    for c in key:
        if c == "year":
            out[c] = out[c].astype("Int64")
        else:
            out[c] = out[c].astype("str")
    out["rows"] = out["rows"].astype("int64")
    return out


def _check_microdata(tables: dict[str, pd.DataFrame], out: _Collector) -> None:
    """Where students and graduates both cover a school-year-level, their cell counts must agree.

    Cells are school_id x year x level (x sex, x ethnicity when graduates has them) x destination;
    a school-year-level is compared when both tables have rows for it and none of its rows on
    either side has an unreadable key or count (those are reported already).
    """
    g, st = tables.get("graduates"), tables.get("students")
    base = ["school_id", "year", "level", "destination"]
    if not (_present(g, *base, "students") and _present(st, *base)):
        return
    key = base[:3] + [c for c in ("sex", "ethnicity") if c in g.columns and c in st.columns] + ["destination"]
    grp = base[:3]
    sagg = _count_rows(st, key).rename(columns={"rows": "microdata"})
    # a student row whose key is not readable (reported already, value not shown) is not compared:
    # its cell, named in the message, would show what was typed there (a name, a birth date)
    s_bad = sagg[key].isna().any(axis=1)
    for c in key:
        codes = {"level": LEVELS, "sex": SEXES, "ethnicity": ETHNICITIES, "destination": ALL_DESTINATIONS}.get(c)
        if codes is not None:
            s_bad |= ~sagg[c].isin(codes)
        elif c == "school_id":
            s_bad |= ~sagg[c].astype(str).str.fullmatch(_CODE_RE)
    g_bad = g[key + ["students"]].isna().any(axis=1)
    bad_groups = pd.concat([g.loc[g_bad, grp], sagg.loc[s_bad, grp].astype({"year": "Int64"})])
    bad_groups = bad_groups.dropna().astype({"year": "int64"}).drop_duplicates()
    sagg = sagg[~s_bad].astype({"year": "int64"})
    gv = g.loc[~g_bad, key + ["students"]].astype({"year": "int64"})
    gv = gv.assign(_row=gv.index.to_numpy())
    gagg = (gv.groupby(key, observed=True, sort=False)
            .agg(graduates=("students", "sum"), _row=("_row", "min")).reset_index())
    both = gagg.merge(sagg, on=key, how="outer")
    common = gv[grp].drop_duplicates().merge(sagg[grp].drop_duplicates(), on=grp)
    if len(bad_groups):
        common = common.merge(bad_groups.assign(_bad=1), on=grp, how="left")
        common = common[common["_bad"].isna()].drop(columns="_bad")
    both = both.merge(common, on=grp)
    both["graduates"] = both["graduates"].fillna(0).astype("int64")
    both["microdata"] = both["microdata"].fillna(0).astype("int64")
    diff = both[both["graduates"] != both["microdata"]]
    if diff.empty:
        return
    cell = pd.Series("", index=diff.index, dtype=object)
    for i, c in enumerate(key):
        cell = cell + ("" if i == 0 else ", ") + c + "=" + diff[c].astype(str)
    expected = (diff["microdata"].astype(str) + " = the number of students rows in the cell (" + cell + ")")
    has_row = diff["_row"].notna()
    if has_row.any():
        d = diff[has_row]
        out.add(check="microdata_mismatch", table="graduates", rows=d["_row"].astype("int64").to_numpy(),
                column="students", value=d["graduates"].astype(str).to_numpy(), expected=expected[has_row].to_numpy())
    if (~has_row).any():
        d = diff[~has_row]
        out.add(check="microdata_mismatch", table="graduates", rows=None, column="students",
                value=["(no row)"] * len(d),
                expected=("a graduates row with students " + expected[~has_row]).to_numpy())


# -- warnings ------------------------------------------------------------------------------------
def _warn_counseling_missing(tables: dict[str, pd.DataFrame], out: _Collector) -> None:
    g, c = tables.get("graduates"), tables.get("counseling")
    if not (_present(g, "school_id", "year") and _present(c, "school_id", "year")):
        return
    sy = g[["school_id", "year"]].dropna().drop_duplicates()
    m = sy.merge(c[["school_id", "year"]].dropna().drop_duplicates(), how="left", indicator=True)
    miss = m[m["_merge"] == "left_only"].sort_values(["school_id", "year"])
    if miss.empty:
        return
    out.add(check="counseling_missing", table="counseling", severity="warning", column="school_id, year",
            value=(miss["school_id"].astype(str) + " / " + miss["year"].astype("int64").astype(str)).to_numpy(),
            expected="a counseling row for each school-year with graduates (the school-year counts as "
                     "missing, not as uncovered)")


def _warn_unknown_share(g: pd.DataFrame | None, threshold: float, out: _Collector) -> None:
    if not _present(g, "school_id", "year", "level", "destination", "students"):
        return
    v = g.dropna(subset=["school_id", "year", "level", "destination", "students"])
    v = v.assign(_unk=v["students"].where(v["destination"] == UNKNOWN, 0))
    for by, label in ((["level", "year"], None), (["school_id", "level", "year"], "school ")):
        a = v.groupby(by, observed=True, sort=True)[["students", "_unk"]].sum()
        a = a[a["students"] > 0]
        share = a["_unk"] / a["students"]
        hi = a[share > threshold].reset_index()
        if hi.empty:
            continue
        sh = share[share > threshold].to_numpy()
        who = hi["level"].astype(str) + " " + hi["year"].astype("int64").astype(str)
        if label:
            who = "school " + hi["school_id"].astype(str) + ", " + who
        value = (who + ": " + pd.Series(np.round(sh * 100, 1)).astype(str).to_numpy() + "% unknown ("
                 + hi["_unk"].astype("int64").astype(str) + " of " + hi["students"].astype("int64").astype(str) + ")")
        out.add(check="unknown_share", table="graduates", severity="warning", column="destination",
                value=value.to_numpy(),
                expected=f"at most {threshold:.0%} of graduates with destination 'unknown' "
                         f"({'per school, level and year' if label else 'per level and year, whole district'})")


def _warn_reporting_gaps(g: pd.DataFrame | None, out: _Collector) -> None:
    if not _present(g, "school_id", "year", "level"):
        return
    v = g[["school_id", "level", "year"]].dropna().drop_duplicates()
    if v.empty:
        return
    last = int(v["year"].max())
    a = v.groupby(["school_id", "level"], observed=True).agg(first=("year", "min"), lastr=("year", "max"),
                                                             n=("year", "nunique"))
    flagged = a[(a["lastr"] < last) | (a["n"] < a["lastr"] - a["first"] + 1)]
    if flagged.empty:
        return
    f = flagged.reset_index()
    span = (last - f["first"] + 1).to_numpy()
    grid = pd.DataFrame({
        "school_id": np.repeat(f["school_id"].to_numpy(), span),
        "level": np.repeat(f["level"].to_numpy(), span),
        "year": np.concatenate([np.arange(a0, last + 1) for a0 in f["first"].to_numpy()]),
    })
    grid = grid.merge(v.assign(_has=1), on=["school_id", "level", "year"], how="left")
    missing = grid[grid["_has"].isna()]
    gaps = (missing.groupby(["school_id", "level"], observed=True)["year"]
            .agg(lambda y: _year_ranges(y.to_numpy())))  # one call per flagged school, not per row
    present = (v.merge(f[["school_id", "level"]], on=["school_id", "level"])
               .groupby(["school_id", "level"], observed=True)["year"].agg(lambda y: _year_ranges(y.to_numpy())))
    idx = gaps.index
    value = ("school " + idx.get_level_values(0).astype(str) + " (" + idx.get_level_values(1).astype(str)
             + "): graduates reported for " + present.reindex(idx).to_numpy() + ", none for " + gaps.to_numpy())
    out.add(check="reporting_gap", table="graduates", severity="warning", column="year", value=np.asarray(value),
            expected=f"graduates rows in every year from the school's first year to the last year of data ({last})")


def _year_ranges(years: np.ndarray) -> str:
    ys = sorted(int(y) for y in set(years.tolist()))
    parts, start = [], None
    for i, y in enumerate(ys):
        if start is None:
            start = y
        if i + 1 == len(ys) or ys[i + 1] != y + 1:
            parts.append(str(start) if start == y else f"{start}-{y}")
            start = None
    return ", ".join(parts)


# ------------------------------------------------------------------------------------------------
# Entry points
# ------------------------------------------------------------------------------------------------
def check_tables(tables: dict[str, pd.DataFrame], files: dict[str, Path] | None = None, *,
                 years: Iterable[int] | None = None, unknown_share_warning: float = 0.10,
                 folder: Path | None = None, prior: _Collector | None = None,
                 ) -> tuple[ValidationReport, dict[str, pd.DataFrame]]:
    """Validate tables and also return them typed (cells that failed are missing).

    The engine behind :func:`validate_tables` and :func:`evaluation.data.load_cohort`. Each frame's
    index must be the 0-based data-row position in its file (``evaluation.data.read_table`` reads
    them so); row numbers in the report are derived from it.
    """
    files = dict(files or {})
    out = prior if prior is not None else _Collector(files)
    out.files = files
    years_l = sorted({int(y) for y in years}) if years is not None else None
    raws: dict[str, pd.DataFrame] = {}
    typed: dict[str, pd.DataFrame] = {}
    for name in ALL_TABLES:
        df = tables.get(name)
        if df is None:
            continue
        if df.index.has_duplicates or not ptypes.is_integer_dtype(df.index):
            df = df.reset_index(drop=True)
        df = df.rename(columns=lambda c: str(c).strip())
        raws[name] = df
        if name == "students":
            _check_personal(df, out)
        _run_schema(_raw_schema(name), df, name, df, out)
        t = coerce_table(name, df)
        ts = _typed_schema(name, years_l)
        if ts is not None:
            _run_schema(ts, t, name, df, out)
        typed[name] = t
    for name in KEYS:
        if name in typed:
            _check_keys(name, typed[name], raws[name], out)
    _check_references(typed, raws, out)
    _check_levels_taught(typed, raws, out)
    for name in ("graduates", "students"):
        if name in typed:
            _check_destination_level(name, typed[name], raws[name], out)
    if "counseling" in typed:
        _check_trained(typed["counseling"], raws["counseling"], out)
    if "vocational_supply" in typed:
        _check_employed(typed["vocational_supply"], raws["vocational_supply"], out)
    if "graduates" in typed:
        _check_zero_years(typed["graduates"], out)
    _check_microdata(typed, out)
    reported = _tables_with_file_issues(out)
    for name in REQUIRED_TABLES:
        if name not in tables and name not in reported and "(folder)" not in reported:
            out.add(check="file_missing", table=name, expected=f"a table {name} ({name}.csv or {name}.parquet)")
    # warnings look only at rows that passed the code and year rules (errors are reported already)
    g = typed.get("graduates")
    if _present(g, "level", "year"):
        keep = g["level"].isin(LEVELS) & g["year"].notna()
        if "school_id" in g.columns:  # a school_id that is not a code (a name typed there) is not echoed
            keep &= g["school_id"].astype(str).str.fullmatch(_CODE_RE).fillna(False).astype(bool)
        if years_l:
            keep &= g["year"].isin(years_l)
        g = g[keep.fillna(False).astype(bool).to_numpy()]
    _warn_counseling_missing({**typed, "graduates": g} if g is not None else typed, out)
    _warn_unknown_share(g, unknown_share_warning, out)
    _warn_reporting_gaps(g, out)
    return ValidationReport(out.frame(), folder=folder, files=files), typed


def _tables_with_file_issues(out: _Collector) -> set[str]:
    checks = ["file_missing", "file_duplicate", "file_unreadable", "empty_table", "folder_missing"]
    return {t for p in out.parts for t in p.loc[p["check"].isin(checks), "table"]}


def validate_tables(tables: dict[str, pd.DataFrame], files: dict[str, Path] | None = None, *,
                    years: Iterable[int] | None = None, unknown_share_warning: float = 0.10) -> ValidationReport:
    """Check tables already in memory (name -> frame as read, index = 0-based row in the file).

    ``files`` (name -> path) decides how rows are numbered in the report (CSV line vs Parquet row);
    a table without a file is numbered like Parquet (1-based). A required table missing from
    ``tables`` is an error.
    """
    return check_tables(tables, files, years=years, unknown_share_warning=unknown_share_warning)[0]


def read_folder(folder: str | Path) -> tuple[dict[str, pd.DataFrame], dict[str, Path], _Collector]:
    """Read every contract table found in ``folder``; problems with files become issues."""
    folder = Path(folder)
    files: dict[str, Path] = {}
    tables: dict[str, pd.DataFrame] = {}
    out = _Collector(files)
    if not folder.is_dir():
        out.add(check="folder_missing", table="(folder)", value=str(folder),
                expected="an existing folder holding the cohort tables")
        return tables, files, out
    for name in ALL_TABLES:
        found = table_files(folder, name)
        if len(found) > 1:
            out.add(check="file_duplicate", table=name, value=", ".join(p.name for p in found),
                    expected=f"only one of {name}.csv or {name}.parquet (remove the other)")
            continue
        if not found:
            if name in REQUIRED_TABLES:
                xl = [p.name for p in folder.glob(f"{name}.xls*")]
                hint = f"; {xl[0]} must first be converted to CSV or Parquet" if xl else ""
                out.add(check="file_missing", table=name, value=None,
                        expected=f"a file {name}.csv or {name}.parquet in the folder (required table){hint}")
            else:
                out.add(check="table_absent", table=name, severity="info", value=None,
                        expected=f"optional table {name}.csv or {name}.parquet; the report sections that need "
                                 "it are skipped")
            continue
        try:
            df, path = read_table(folder, name)
        except TableReadError as exc:
            files[name] = exc.path
            kind = "Parquet file" if exc.path.suffix == ".parquet" else "CSV file (UTF-8, comma-separated, header row)"
            out.add(check="file_unreadable", table=name, value=exc.path.name, expected=f"a readable {kind}; {exc.reason}")
            continue
        files[name] = path
        if len(df) == 0:
            out.add(check="empty_table", table=name, severity="error", value=path.name,
                    expected="at least one data row below the header")
            continue
        tables[name] = df
    return tables, files, out


def validate_folder(folder: str | Path, *, years: Iterable[int] | None = None,
                    unknown_share_warning: float = 0.10) -> ValidationReport:
    """Check a cohort data folder against the data contract and return every issue found.

    ``years``: the graduation years of the review cycle (graduates, counseling and students
    years outside them are errors); ``None`` checks only that years are plausible.
    ``unknown_share_warning``: warn when more than this fraction (0..1) of a level-year's or a
    school-year's graduates have destination ``unknown``.
    """
    tables, files, out = read_folder(folder)
    report, _ = check_tables(tables, files, years=years, unknown_share_warning=unknown_share_warning,
                             folder=Path(folder), prior=out)
    return report
