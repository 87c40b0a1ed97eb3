"""Analysis tables built from a validated cohort: the school-year panel and student cells.

Data moves one way: ``CohortData`` (typed tables) -> these analysis tables -> indicators and
estimators. Estimators take the frames built here as they are and never build variables.

Both tables are built from **sufficient statistics**: the graduates table (or the students
microdata) is aggregated once with ``groupby``; no loop ever runs over students.

Definitions (units in brackets)
-------------------------------
graduates [students]
    All graduates of the level in the school and year; with ``unknown_in_denominator=False``
    graduates whose destination is ``unknown`` are left out.
vocational [students]
    Graduates with any ``voc_*`` destination (elementary, intermediate, college, ...).
voc_target [students]
    Graduates counted the way the target in force defines its indicator (indicator
    ``voc_uptake_target`` of the targets frame for that level, year and the school's area
    type; destinations listed in ``counted_destinations``). Where no target row is in force
    (e.g. after 2025) every ``voc_*`` destination counts, so ``voc_target == vocational``.
unknown [students]
    Graduates whose destination is ``unknown`` (always reported, whatever the denominator).
rate [fraction 0..1]
    vocational / graduates.
covered
    A school is covered in a year when it has at least one trained career-counseling teacher
    (``trained_counselors >= 1``); a school-year without a counseling row is *missing*
    (``covered`` NaN), not uncovered.
first_covered [year]
    First year with ``trained_counselors >= 1`` in the counseling table; 0 = never covered.
treated [0/1]
    Absorbing treatment: ``first_covered > 0 and year >= first_covered``.
event_time [years]
    ``year - first_covered`` (NaN for never-covered schools).
counselors_per_100 [trained counselors per 100 graduates]
share_counseled [fraction]
    ``students_counseled / graduates`` (NaN when the counseling table has no such column).
khmer_commune [bool]
    The school's pre-2025 commune has a Khmer share of at least ``khmer_commune_threshold``
    (the review's parameter of that name): the plan's "communes with many Khmer residents".
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .contract import GEOGRAPHIES, LEVELS, UNKNOWN, VOCATIONAL_PREFIX
from .reference import commune_crosswalk, load_targets, target_in_force

PANEL_COLUMNS: tuple[str, ...] = (
    "school_id", "level", "year", "commune_code", "commune_name", "commune_code_pre2025",
    "ethnic_boarding", "disadvantaged", "khmer_share", "graduates", "vocational", "voc_target",
    "unknown", "rate", "counselors", "trained_counselors", "coverage_status", "covered",
    "first_covered", "treated", "event_time", "counselors_per_100", "share_counseled", "khmer_commune",
)

#: Cell keys of ``student_cells`` (those present in the data are used, in this order).
CELL_KEYS: tuple[str, ...] = ("sex", "ethnicity", "poor_household")
CELL_COLUMNS: tuple[str, ...] = (
    "school_id", "level", "year", "commune_code", "ethnic_boarding", "disadvantaged", "khmer_share",
    "graduates", "vocational", "voc_target", "unknown", "rate",
)

TARGET_INDICATOR = "voc_uptake_target"


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def _check_level(level: str) -> None:
    if level not in LEVELS:
        raise ValueError(f"level {level!r}: expected one of {', '.join(LEVELS)}")


def _table(cohort: Any, name: str) -> pd.DataFrame:
    df = getattr(cohort, name, None)
    if df is None:
        raise ValueError(f"cohort has no {name} table")
    return df


def _school_frame(cohort: Any) -> pd.DataFrame:
    """Schools joined to their (pre-2025) commune: school_id, commune_code, commune_name,
    ethnic_boarding, disadvantaged, khmer_share, area_type."""
    schools = _table(cohort, "schools")
    communes = _table(cohort, "communes")
    for col in ("school_id", "commune_code", "ethnic_boarding"):
        if col not in schools.columns:
            raise ValueError(f"schools: missing column {col}")
    for col in ("commune_code", "commune_name", "disadvantaged", "khmer_share"):
        if col not in communes.columns:
            raise ValueError(f"communes: missing column {col}")
    s = schools.loc[:, ["school_id", "commune_code", "ethnic_boarding"]].copy()
    s["school_id"] = s["school_id"].astype(str)
    s["commune_code"] = s["commune_code"].astype(str)
    c = communes.loc[:, ["commune_code", "commune_name", "disadvantaged", "khmer_share"]].copy()
    c["commune_code"] = c["commune_code"].astype(str)
    out = s.merge(c, on="commune_code", how="left", validate="many_to_one")
    bad = out["commune_name"].isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValueError(f"schools: row {i + 2}, column commune_code, value {out['commune_code'].iloc[i]!r}: "
                         "not a commune_code of the communes table")
    out["ethnic_boarding"] = out["ethnic_boarding"].astype(bool)
    out["disadvantaged"] = out["disadvantaged"].astype(bool)
    out["khmer_share"] = out["khmer_share"].astype("float64")
    out["area_type"] = np.where(out["disadvantaged"], "disadvantaged", "general")
    return out


def post2025_map(communes: pd.DataFrame) -> pd.DataFrame:
    """Pre-2025 commune code -> post-2025 commune (columns commune_code, merged_into_code,
    merged_into_name), from the communes table where it carries ``merged_into_*`` and from the
    shipped 2025 crosswalk for the rest; a code that is itself a post-2025 commune of the
    crosswalk (data keyed after the reorganisation) maps to itself. Raises naming every code
    that none of these maps."""
    codes = communes["commune_code"].astype(str)
    out = pd.DataFrame({"commune_code": codes.to_numpy()})
    out["merged_into_code"] = pd.Series(pd.NA, index=out.index, dtype="string")
    out["merged_into_name"] = pd.Series(pd.NA, index=out.index, dtype="string")
    if {"merged_into_code", "merged_into_name"} <= set(communes.columns):
        out["merged_into_code"] = communes["merged_into_code"].astype("string").to_numpy()
        out["merged_into_name"] = communes["merged_into_name"].astype("string").to_numpy()
    need = out["merged_into_code"].isna() | out["merged_into_name"].isna()
    if need.any():
        cw = commune_crosswalk()
        by_pre = cw.set_index("commune_code")
        out.loc[need, "merged_into_code"] = out.loc[need, "commune_code"].map(by_pre["merged_into_code"]).astype("string")
        out.loc[need, "merged_into_name"] = out.loc[need, "commune_code"].map(by_pre["merged_into_name"]).astype("string")
        # data keyed by the communes after 1/7/2025 already: a post-2025 code maps to itself
        post = cw.drop_duplicates("merged_into_code").set_index("merged_into_code")["merged_into_name"]
        itself = (out["merged_into_code"].isna() | out["merged_into_name"].isna()) & out["commune_code"].isin(post.index)
        out.loc[itself, "merged_into_code"] = out.loc[itself, "commune_code"].astype("string")
        out.loc[itself, "merged_into_name"] = out.loc[itself, "commune_code"].map(post).astype("string")
    missing = out["merged_into_code"].isna() | out["merged_into_name"].isna()
    if missing.any():
        bad = ", ".join(out.loc[missing, "commune_code"].astype(str))
        raise ValueError("communes: column merged_into_code, commune_code(s) " + bad
                         + ": no post-2025 commune in the communes table or the shipped crosswalk;"
                           " add merged_into_code and merged_into_name to communes")
    return out


def counted_destinations(targets: pd.DataFrame | None, *, level: str, years, destinations,
                         indicator: str = TARGET_INDICATOR) -> pd.DataFrame:
    """Which destinations the target in force counts, per year and area type.

    Returns columns year, area_type, destination, counted (bool), target_source. Where no
    target row of ``indicator`` is in force, every ``voc_*`` destination is counted and
    ``target_source`` is empty. Loops over the (few) year x area type combinations only.
    """
    if targets is None:
        targets = load_targets()
    rows = []
    dests = [str(d) for d in destinations]
    default = {d for d in dests if d.startswith(VOCATIONAL_PREFIX)}
    for year in sorted({int(y) for y in years}):
        for area in ("general", "disadvantaged"):
            row = target_in_force(targets, indicator=indicator, level=level, year=year, area_type=area)
            spec = "" if row is None else str(row["counted_destinations"] or "")
            counted = {d.strip() for d in spec.split(";") if d.strip()} or default
            src = "" if row is None else str(row["source"])
            rows += [(year, area, d, d in counted, src) for d in dests]
    out = pd.DataFrame(rows, columns=["year", "area_type", "destination", "counted", "target_source"])
    out["year"] = out["year"].astype("int64")
    return out


def _flag_counts(agg: pd.DataFrame, keys: list[str], *, level: str, targets: pd.DataFrame | None,
                 unknown_in_denominator: bool) -> pd.DataFrame:
    """From per-destination counts (``keys`` + year, area_type, destination, students) to
    graduates, vocational, voc_target, unknown, rate per ``keys``."""
    dest = agg["destination"].astype(str)
    cd = counted_destinations(targets, level=level, years=agg["year"].unique(), destinations=dest.unique())
    flags = agg.merge(cd[["year", "area_type", "destination", "counted"]],
                      on=["year", "area_type", "destination"], how="left", validate="many_to_one")
    n = flags["students"].to_numpy(dtype="int64")
    d = flags["destination"].astype(str)
    is_unknown = (d == UNKNOWN).to_numpy()
    work = flags[keys].copy()
    work["total"] = n
    work["vocational"] = n * d.str.startswith(VOCATIONAL_PREFIX).to_numpy()
    work["voc_target"] = n * flags["counted"].fillna(False).astype(bool).to_numpy()
    work["unknown"] = n * is_unknown
    out = work.groupby(keys, observed=True, sort=True, dropna=False).sum().reset_index()
    out["graduates"] = out["total"] if unknown_in_denominator else out["total"] - out["unknown"]
    out = out.drop(columns="total")
    for col in ("graduates", "vocational", "voc_target", "unknown"):
        out[col] = out[col].astype("int64")
    g = out["graduates"].to_numpy(dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        out["rate"] = np.where(g > 0, out["vocational"].to_numpy() / np.where(g > 0, g, 1.0), np.nan)
    return out


# --------------------------------------------------------------------------------------------
# the school-year panel
# --------------------------------------------------------------------------------------------
def school_year_panel(cohort: Any, *, level: str, geography: str = "pre2025",
                      unknown_in_denominator: bool = True,
                      targets: pd.DataFrame | None = None,
                      khmer_commune_threshold: float = 0.15) -> pd.DataFrame:
    """One row per school x year with graduates of ``level``: the analysis table of estimators.

    Parameters
    ----------
    cohort
        Any object with the typed tables ``schools, communes, graduates, counseling`` as
        attributes (a ``CohortData``).
    level
        ``"THCS"`` or ``"THPT"``.
    geography
        ``"pre2025"``: commune_code/commune_name are the pre-2025 units; ``"post2025"``: they
        are the commune each unit belongs to after the 1/7/2025 reorganisation (from the
        communes table's ``merged_into_*`` columns, else the shipped crosswalk).
        ``commune_code_pre2025`` is always kept. ``disadvantaged`` and ``khmer_share`` stay those
        of the school's pre-2025 unit in both geographies.
    unknown_in_denominator
        Keep graduates with destination ``unknown`` in ``graduates`` (default, as the data
        contract says). ``unknown`` is reported either way.
    targets
        Targets frame (``evaluation.reference.load_targets``) defining ``voc_target``; default
        all shipped targets.
    khmer_commune_threshold
        Khmer share from which a commune counts as a Khmer commune (column ``khmer_commune``).

    Returns
    -------
    DataFrame with exactly the columns ``PANEL_COLUMNS`` (see the module docstring for each
    definition and unit), sorted by school_id, year. ``attrs`` records level, geography and
    unknown_in_denominator.
    """
    _check_level(level)
    if geography not in GEOGRAPHIES:
        raise ValueError(f"geography {geography!r}: expected one of {', '.join(GEOGRAPHIES)}")
    grads = _table(cohort, "graduates")
    for col in ("school_id", "year", "level", "destination", "students"):
        if col not in grads.columns:
            raise ValueError(f"graduates: missing column {col}")
    g = grads.loc[grads["level"].astype(str) == level, ["school_id", "year", "destination", "students"]]
    if g.empty:
        raise ValueError(f"graduates: no rows of level {level}")
    school = _school_frame(cohort)
    agg = (g.assign(school_id=g["school_id"].astype(str), destination=g["destination"].astype(str))
           .groupby(["school_id", "year", "destination"], observed=True, sort=False)["students"].sum()
           .reset_index())
    unknown_schools = sorted(set(agg["school_id"]) - set(school["school_id"]))
    if unknown_schools:
        raise ValueError(f"graduates: column school_id, value(s) {', '.join(unknown_schools[:10])}: "
                         "not a school_id of the schools table")
    agg = agg.merge(school[["school_id", "area_type"]], on="school_id", how="left")
    counts = _flag_counts(agg, ["school_id", "year"], level=level, targets=targets,
                          unknown_in_denominator=unknown_in_denominator)
    panel = counts.merge(school, on="school_id", how="left", validate="many_to_one")
    panel["level"] = level
    panel["year"] = panel["year"].astype("int64")
    panel["commune_code_pre2025"] = panel["commune_code"]

    if geography == "post2025":
        m = post2025_map(_table(cohort, "communes")).set_index("commune_code")
        panel["commune_code"] = panel["commune_code_pre2025"].map(m["merged_into_code"]).astype(str)
        panel["commune_name"] = panel["commune_code_pre2025"].map(m["merged_into_name"]).astype(str)

    panel = _add_counseling(panel, _table(cohort, "counseling"))
    panel["khmer_commune"] = panel["khmer_share"].astype("float64") >= float(khmer_commune_threshold)
    panel = panel.loc[:, list(PANEL_COLUMNS)].sort_values(["school_id", "year"], kind="stable").reset_index(drop=True)
    for col in ("school_id", "level", "commune_code", "commune_name", "commune_code_pre2025", "coverage_status"):
        panel[col] = panel[col].astype(str)
    panel.attrs.update(level=level, geography=geography, unknown_in_denominator=bool(unknown_in_denominator))
    return panel


def _add_counseling(panel: pd.DataFrame, counseling: pd.DataFrame) -> pd.DataFrame:
    for col in ("school_id", "year", "counselors", "trained_counselors"):
        if col not in counseling.columns:
            raise ValueError(f"counseling: missing column {col}")
    cols = ["school_id", "year", "counselors", "trained_counselors"]
    if "students_counseled" in counseling.columns:
        cols.append("students_counseled")
    c = counseling.loc[:, cols].copy()
    c["school_id"] = c["school_id"].astype(str)
    c["year"] = c["year"].astype("int64")
    dup = c.duplicated(["school_id", "year"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise ValueError(f"counseling: row {i + 2}, columns school_id/year, value "
                         f"({c['school_id'].iloc[i]!r}, {c['year'].iloc[i]}): duplicated key")
    for col in cols[2:]:
        c[col] = c[col].astype("float64")
    # first covered year over the whole counseling table (all years it holds)
    cov = c.loc[c["trained_counselors"] >= 1]
    first = cov.groupby("school_id")["year"].min().rename("first_covered")
    out = panel.merge(c, on=["school_id", "year"], how="left", validate="one_to_one")
    has_row = out["trained_counselors"].notna().to_numpy()
    covered = out["trained_counselors"].to_numpy() >= 1
    out["coverage_status"] = np.where(~has_row, "missing", np.where(covered, "covered", "not_covered"))
    out["covered"] = np.where(has_row, covered.astype("float64"), np.nan)
    out["first_covered"] = out["school_id"].map(first).fillna(0).astype("int64")
    fc = out["first_covered"].to_numpy()
    yr = out["year"].to_numpy()
    out["treated"] = ((fc > 0) & (yr >= fc)).astype("int64")
    out["event_time"] = np.where(fc > 0, (yr - fc).astype("float64"), np.nan)
    g = out["graduates"].to_numpy(dtype="float64")
    safe = np.where(g > 0, g, np.nan)
    out["counselors_per_100"] = out["trained_counselors"].to_numpy() / safe * 100.0
    if "students_counseled" in out.columns:
        out["share_counseled"] = out["students_counseled"].to_numpy() / safe
    else:
        out["share_counseled"] = np.nan
    return out


# --------------------------------------------------------------------------------------------
# student cells (input of the equity models)
# --------------------------------------------------------------------------------------------
def student_cells(cohort: Any, *, level: str, unknown_in_denominator: bool = True,
                  targets: pd.DataFrame | None = None, source: str = "auto") -> pd.DataFrame:
    """Graduates aggregated to school x year x sex x ethnicity (x poor_household) cells.

    ``source="auto"`` takes the ``students`` microdata when the cohort has it (with rows of the
    level and a ``poor_household`` column), else the ``graduates`` table; ``"graduates"`` or
    ``"students"`` forces one. The cell keys are those of ``CELL_KEYS`` the source carries
    (a graduates table without sex/ethnicity gives school x year cells). Student keys never
    leave this function: only counts do.

    Returns columns school_id, level, year, <cell keys present>, commune_code (pre-2025),
    ethnic_boarding, disadvantaged, khmer_share, graduates, vocational, voc_target, unknown
    [students] and rate [fraction] (definitions as in ``school_year_panel``). ``attrs["keys"]``
    lists the cell keys present.
    """
    _check_level(level)
    if source not in ("auto", "graduates", "students"):
        raise ValueError(f"source {source!r}: expected 'auto', 'graduates' or 'students'")
    students = getattr(cohort, "students", None)
    use_students = False
    if source in ("auto", "students") and students is not None and len(students):
        st = students.loc[students["level"].astype(str) == level]
        use_students = len(st) > 0 and (source == "students" or "poor_household" in st.columns)
    if source == "students" and not use_students:
        raise ValueError(f"students: no microdata of level {level} in the cohort")
    if use_students:
        keys = [k for k in CELL_KEYS if k in st.columns]
        base = st.loc[:, ["school_id", "year", "destination", *keys]]
        agg = base.groupby(["school_id", "year", *keys, "destination"], observed=True, sort=False,
                           dropna=False).size().rename("students").reset_index()
    else:
        grads = _table(cohort, "graduates")
        g = grads.loc[grads["level"].astype(str) == level]
        if g.empty:
            raise ValueError(f"graduates: no rows of level {level}")
        keys = [k for k in CELL_KEYS if k in g.columns]
        agg = (g.groupby(["school_id", "year", *keys, "destination"], observed=True, sort=False,
                         dropna=False)["students"].sum().reset_index())
    agg["school_id"] = agg["school_id"].astype(str)
    agg["destination"] = agg["destination"].astype(str)
    school = _school_frame(cohort)
    agg = agg.merge(school[["school_id", "area_type"]], on="school_id", how="left")
    if agg["area_type"].isna().any():
        bad = sorted(set(agg.loc[agg["area_type"].isna(), "school_id"]))
        raise ValueError(f"{'students' if use_students else 'graduates'}: column school_id, value(s) "
                         f"{', '.join(bad[:10])}: not a school_id of the schools table")
    cells = _flag_counts(agg, ["school_id", "year", *keys], level=level, targets=targets,
                         unknown_in_denominator=unknown_in_denominator)
    cells = cells.merge(school[["school_id", "commune_code", "ethnic_boarding", "disadvantaged", "khmer_share"]],
                        on="school_id", how="left", validate="many_to_one")
    cells["level"] = level
    cells["year"] = cells["year"].astype("int64")
    if "poor_household" in cells.columns:
        cells["poor_household"] = cells["poor_household"].astype(bool)
    cols = ["school_id", "level", "year", *keys, *[c for c in CELL_COLUMNS if c not in ("school_id", "level", "year")]]
    cells = cells.loc[:, cols].sort_values(["school_id", "year", *keys], kind="stable").reset_index(drop=True)
    cells.attrs.update(level=level, keys=tuple(keys), source="students" if use_students else "graduates",
                       unknown_in_denominator=bool(unknown_in_denominator))
    return cells


#: Columns of the school-year panel that describe the school's counseling, carried to group panels.
_TREATMENT_COLUMNS = ("coverage_status", "covered", "first_covered", "treated", "event_time",
                      "counselors_per_100", "khmer_commune")


def school_year_group_panel(cohort: Any, *, level: str, by: str, panel: pd.DataFrame | None = None,
                            unknown_in_denominator: bool = True, targets: pd.DataFrame | None = None,
                            khmer_commune_threshold: float = 0.15) -> pd.DataFrame:
    """One row per school x year x group of ``by`` (``sex``, ``ethnicity`` or ``poor_household``).

    The graduates of each group, their vocational count and rate (definitions as in
    ``school_year_panel``), with the school-year's counseling columns (``treated``,
    ``first_covered``, ...) attached, so that an effect estimator can be fitted on one group's
    rows or compare groups (effect heterogeneity by sex, say). ``panel`` is the level's
    ``school_year_panel`` when already built. Raises ``ValueError`` when the data have no such
    breakdown.
    """
    cells = student_cells(cohort, level=level, unknown_in_denominator=unknown_in_denominator, targets=targets)
    if by not in cells.attrs.get("keys", ()):
        raise ValueError(f"{level}: the data have no {by!r} breakdown (cells by {', '.join(cells.attrs.get('keys', ())) or 'school and year only'})")
    sums = (cells.groupby(["school_id", "year", by], observed=True, sort=True)[["graduates", "vocational", "voc_target",
                                                                                 "unknown"]].sum().reset_index())
    sums = sums[sums["graduates"] > 0]
    sums["rate"] = sums["vocational"] / sums["graduates"]
    if panel is None:
        panel = school_year_panel(cohort, level=level, unknown_in_denominator=unknown_in_denominator,
                                  targets=targets, khmer_commune_threshold=khmer_commune_threshold)
    keep = ["school_id", "year", "level", "commune_code", "ethnic_boarding", "disadvantaged", *_TREATMENT_COLUMNS]
    out = sums.merge(panel.loc[:, keep], on=["school_id", "year"], how="inner", validate="many_to_one")
    out[by] = out[by].astype(str)
    return out.sort_values(["school_id", "year", by], kind="stable").reset_index(drop=True)
