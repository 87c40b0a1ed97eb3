"""National-scale synthetic cohort (province -> district -> commune -> school) and its aggregation.

``write_national(out, scale=180)`` writes a cohort folder of about 10 million graduates over
2018-2025 in the data contract, with the students and graduates tables as Parquet. It does not
have a data-generating process of its own: it is ``evaluation.sample.write_sample`` (same seed,
same scale, same bytes of every student and graduate) with the synthetic districts (blocks of 14
communes) grouped into provinces. The communes table gains two extra columns, ``district_code``
and ``province_code`` (extra columns are allowed by the contract), and ``district_name`` /
``province_name`` name the hierarchy: the first district is Càng Long in Trà Vinh (real commune
names), the synthetic ones are ``Huyện mô phỏng NNN`` in ``Tỉnh mô phỏng PP``.
``truth.json`` gains a ``national`` entry with the counts of each level of the hierarchy.

``national_indicators(folder)`` aggregates such a folder (or any cohort folder whose students
or graduates table is Parquet or CSV) to one row per province, district, level and year with
DuckDB reading the files directly: the microdata is never loaded as a pandas frame, only the
aggregate (a few thousand rows) is returned. Memory is bounded by DuckDB's ``memory_limit``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal

import pandas as pd

from .contract import LEVELS
from .sample import COMMUNE_BLOCK, write_sample

__all__ = ["write_national", "national_indicators", "DEFAULT_SCALE", "DISTRICTS_PER_PROVINCE"]

#: ``write_sample`` scale giving about 10 million graduates over 2018-2025 (180 districts).
DEFAULT_SCALE = 180.0
#: Synthetic districts per synthetic province (Vietnam had about 11 per province before 2025).
DISTRICTS_PER_PROVINCE = 11


def _hierarchy(communes: pd.DataFrame, districts_per_province: int) -> pd.DataFrame:
    """Add district_code/province_code and name the synthetic provinces (block 0 stays real)."""
    c = communes.copy()
    block = pd.Series(range(len(c))) // COMMUNE_BLOCK
    # the real district (block 0) is its own province (Trà Vinh); synthetic provinces follow
    prov = (block - 1) // districts_per_province + 1
    prov[block == 0] = 0
    c["district_code"] = [f"D{b:03d}" for b in block]
    c["province_code"] = [f"P{p:02d}" for p in prov]
    synth = block > 0
    c.loc[synth, "province_name"] = [f"Tỉnh mô phỏng {p:02d}" for p in prov[synth]]
    return c


def _replace_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_national(out: str | Path, *, seed: int = 2025, scale: float = DEFAULT_SCALE,
                   districts_per_province: int = DISTRICTS_PER_PROVINCE) -> Path:
    """Write the national synthetic cohort folder ``out`` (students and graduates as Parquet).

    ``scale`` as in ``write_sample`` (about 56,000 graduates and 14 communes per unit: 180 gives
    about 10 million graduates in 180 districts); ``districts_per_province`` groups the
    synthetic districts into provinces. Returns the folder.
    """
    if not (isinstance(districts_per_province, int) and districts_per_province >= 1):
        raise ValueError(f"districts_per_province {districts_per_province!r}: expected a whole number >= 1")
    folder = write_sample(out, seed=seed, scale=scale, table_format="parquet")
    path = folder / "communes.csv"
    communes = pd.read_csv(path, dtype=str, keep_default_na=False)
    communes = _hierarchy(communes, districts_per_province)
    text = communes.to_csv(index=False, lineterminator="\n")
    truth_path = folder / "truth.json"
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    truth["national"] = {
        "provinces": int(communes["province_code"].nunique()),
        "districts": int(communes["district_code"].nunique()),
        "communes": len(communes),
        "districts_per_province": districts_per_province,
        "note": "write_sample(seed, scale) with synthetic districts grouped into provinces; "
                "district 0 is Càng Long (Trà Vinh)",
    }
    truth_path.unlink()  # truth.json marks a complete folder: rewritten last
    _replace_text(path, text)
    _replace_text(truth_path, json.dumps(truth, sort_keys=True, indent=2, ensure_ascii=False) + "\n")
    return folder


def _table(folder: Path, name: str) -> tuple[str, str]:
    """(DuckDB reader expression, path) of a contract table stored as Parquet or CSV."""
    pq, csv = folder / f"{name}.parquet", folder / f"{name}.csv"
    if pq.is_file():
        return "read_parquet(?)", str(pq)
    if csv.is_file():
        return "read_csv(?, header=true, all_varchar=true)", str(csv)
    raise FileNotFoundError(f"{folder}: table {name} not found ({name}.parquet or {name}.csv)")


def national_indicators(folder: str | Path, *, source: Literal["students", "graduates"] | None = None,
                        by: Literal["district", "province"] = "district", threads: int | None = None,
                        memory_limit: str = "3GB") -> pd.DataFrame:
    """Uptake and counseling coverage by province (and district), level and year, computed by
    DuckDB over the folder's files; the microdata never becomes a pandas frame.

    Columns: province_code, province_name, [district_code, district_name,] level, year,
    graduates (count), vocational (graduates with a ``voc_*`` destination), unknown (destination
    ``unknown``), rate = vocational / graduates (fraction, ``unknown`` in the denominator),
    unknown_share = unknown / graduates, schools (schools of the level with graduates that
    year), covered (of which with ``trained_counselors >= 1``), missing (of which without a
    counseling row), coverage_rate = covered / (schools - missing) (fraction of the schools with
    counseling data). ``source``: the students microdata (default when present) or the
    graduates table (same numbers when the two agree). Communes without ``district_code`` /
    ``province_code`` are grouped by their names.
    """
    import duckdb

    folder = Path(folder)
    if source is None:
        source = "students" if any((folder / f"students.{e}").is_file() for e in ("parquet", "csv")) else "graduates"
    src_expr, src_path = _table(folder, source)
    sch_expr, sch_path = _table(folder, "schools")
    com_expr, com_path = _table(folder, "communes")
    cou_expr, cou_path = _table(folder, "counseling")
    csv_src = src_expr.startswith("read_csv")

    def typed(col: str, sql_type: str) -> str:  # CSV tables are read as text; Parquet is typed already
        return f"CAST({col} AS {sql_type})" if csv_src else col

    if source == "students":  # one row per graduate: count rows
        grads, voc, unk = ("COUNT(*)", f"COUNT(*) FILTER (WHERE starts_with({typed('destination', 'VARCHAR')}, 'voc_'))",
                           f"COUNT(*) FILTER (WHERE {typed('destination', 'VARCHAR')} = 'unknown')")
    else:  # one row per cell: sum the students column
        n = typed("students", "BIGINT")
        grads, voc, unk = (f"SUM({n})", f"SUM({n}) FILTER (WHERE starts_with({typed('destination', 'VARCHAR')}, 'voc_'))",
                           f"SUM({n}) FILTER (WHERE {typed('destination', 'VARCHAR')} = 'unknown')")
    con = duckdb.connect(config={"threads": threads or os.cpu_count() or 1, "memory_limit": memory_limit})
    try:
        cols = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {com_expr}", [com_path]).fetchall()}
        dcode = "c.district_code" if "district_code" in cols else "c.district_name"
        pcode = "c.province_code" if "province_code" in cols else "c.province_name"
        geo = [f"{pcode} AS province_code", "c.province_name"]
        if by == "district":
            geo += [f"{dcode} AS district_code", "c.district_name"]
        elif by != "province":
            raise ValueError(f"by {by!r}: expected 'district' or 'province'")
        keys = ", ".join(g.split(" AS ")[-1].split(".")[-1] for g in geo)
        sql = f"""
        WITH cells AS (
            SELECT {typed('school_id', 'VARCHAR')} AS school_id, {typed('year', 'BIGINT')} AS year,
                   {typed('level', 'VARCHAR')} AS level,
                   {grads} AS graduates, COALESCE({voc}, 0) AS vocational, COALESCE({unk}, 0) AS unknown
            FROM {src_expr} GROUP BY ALL),
        couns AS (
            SELECT CAST(school_id AS VARCHAR) AS school_id, CAST(year AS BIGINT) AS year,
                   MAX(CAST(trained_counselors AS BIGINT)) AS trained
            FROM {cou_expr} GROUP BY ALL),
        geo AS (
            SELECT CAST(s.school_id AS VARCHAR) AS school_id, {', '.join(geo)}
            FROM {sch_expr} s JOIN {com_expr} c ON CAST(s.commune_code AS VARCHAR) = CAST(c.commune_code AS VARCHAR))
        SELECT {keys}, cells.level, cells.year,
               SUM(graduates) AS graduates, SUM(vocational) AS vocational, SUM(unknown) AS unknown,
               COUNT(*) FILTER (WHERE graduates > 0) AS schools,
               COUNT(*) FILTER (WHERE graduates > 0 AND couns.trained >= 1) AS covered,
               COUNT(*) FILTER (WHERE graduates > 0 AND couns.trained IS NULL) AS missing
        FROM cells JOIN geo USING (school_id) LEFT JOIN couns USING (school_id, year)
        GROUP BY ALL ORDER BY {keys}, cells.level, cells.year"""
        params = [src_path, cou_path, sch_path, com_path]
        df = con.execute(sql, params).df()
    finally:
        con.close()
    for c in ("graduates", "vocational", "unknown", "schools", "covered", "missing"):
        df[c] = df[c].astype("int64")
    df["year"] = df["year"].astype("int64")
    df["rate"] = df["vocational"] / df["graduates"]
    df["unknown_share"] = df["unknown"] / df["graduates"]
    with_data = df["schools"] - df["missing"]
    df["coverage_rate"] = (df["covered"] / with_data).where(with_data > 0)
    df["level"] = pd.Categorical(df["level"], categories=list(LEVELS)).astype(str)
    return df.reset_index(drop=True)
