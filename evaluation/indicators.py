"""Indicators of the review, each defined once: vocational uptake, target attainment, coverage.

Every function takes an analysis table (``evaluation.panel.school_year_panel`` or
``student_cells``) and returns a tidy frame whose first columns are the output contract's
minimum columns for the table of the same name; extra columns follow. Rates are fractions
0..1. Counts are numbers of graduates (students) or schools.

Indicators
----------
vocational uptake (``rate``) [fraction]
    Graduates with any ``voc_*`` destination / graduates, summed over the rows of the group
    (a pooled, graduate-weighted rate, not a mean of school rates).
target-defined uptake (``target_rate``) [fraction]
    ``voc_target / graduates``: the same cohort counted the way the target in force defines
    its indicator (after THPT the national scheme counts college level only).
share unknown (``unknown_share``) [fraction]
    Graduates whose destination is unknown / all graduates (unknown included whatever the
    uptake denominator).
target attainment (``target_met``) [text, NA where no target applies]
    Three-valued (output contract): ``met`` when the rate is at or above the target, ``not_met``
    when it is below, ``not_determined`` when what is unknown could put it on either side. Uptake
    rates are counts of the whole cohort (met / not_met on ``target_rate``); counseling coverage
    has bounds: missing reports counted as not covered (``coverage_rate_all``) and as covered, so
    a level with a school that did not report meets a 100 % target only if the others cannot
    miss it.
counseling coverage (``coverage_rate``) [fraction]
    covered / (schools - missing): the share of the schools that reported counseling staff
    that have at least one trained counselor. ``coverage_rate_all`` = covered / schools
    counts the missing reports as not covered (a lower bound).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from .disclosure import blank_suppressed, primary_mask
from .reference import load_targets, target_in_force

UPTAKE_VALUES: tuple[str, ...] = ("graduates", "vocational", "rate", "unknown", "unknown_share", "voc_target",
                                  "target_rate", "schools")
TARGET_COLUMNS: tuple[str, ...] = ("target", "target_met", "target_area_type", "target_source", "target_standing")
UPTAKE_BY_YEAR_COLUMNS: tuple[str, ...] = (
    "level", "year", "graduates", "vocational", "rate", "unknown_share", "target_rate", "target", "target_met",
    "unknown", "voc_target", "schools", "target_area_type", "target_source", "target_standing")
UPTAKE_BY_COMMUNE_COLUMNS: tuple[str, ...] = (
    "level", "year", "commune_code", "commune_name", "graduates", "vocational", "rate", "target_rate", "target",
    "target_met", "suppressed", "disadvantaged", "unknown", "unknown_share", "voc_target", "schools",
    "target_area_type", "target_source", "target_standing")
UPTAKE_BY_GROUP_COLUMNS: tuple[str, ...] = (
    "level", "year", "group_var", "group", "graduates", "vocational", "rate", "suppressed", "unknown",
    "unknown_share")
COVERAGE_BY_YEAR_COLUMNS: tuple[str, ...] = (
    "level", "year", "schools", "covered", "missing", "coverage_rate", "target", "not_covered",
    "coverage_rate_all", "target_met", "target_area_type", "target_source", "target_standing")

#: Columns blanked in a suppressed row (those present): the rate and every count that would reveal it.
SUPPRESSED_VALUES: tuple[str, ...] = ("rate", "vocational", "voc_target", "target_rate", "unknown", "unknown_share",
                                      "target_met")
GROUP_VARS: tuple[str, ...] = ("sex", "ethnicity", "poor_household")


def _as_list(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def _ratio(num, den) -> np.ndarray:
    num = np.asarray(num, dtype="float64")
    den = np.asarray(den, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


# --------------------------------------------------------------------------------------------
def uptake(panel: pd.DataFrame, *, by: str | Sequence[str], unknown_in_denominator: bool | None = None) -> pd.DataFrame:
    """Vocational uptake of the rows of ``panel`` grouped by ``by``.

    ``panel`` is a school-year panel or a frame of student cells (columns graduates,
    vocational, unknown, voc_target; school_id when schools are counted). ``by`` is any list of
    its columns (level, year, commune_code, school_id, ethnic_boarding, disadvantaged, sex, ...).

    Returns ``by`` + graduates, vocational, unknown, voc_target [students], schools [count of
    distinct school_id, when present], rate = vocational/graduates, target_rate =
    voc_target/graduates and unknown_share = unknown/all graduates [fractions; NaN for an empty
    group]. ``unknown_in_denominator`` (default: the panel's ``attrs``, else True) says whether
    ``graduates`` already includes the unknown destinations.
    """
    keys = _as_list(by)
    missing = [c for c in [*keys, "graduates", "vocational", "unknown", "voc_target"] if c not in panel.columns]
    if missing:
        raise ValueError(f"uptake: the frame has no column(s) {', '.join(missing)}")
    if unknown_in_denominator is None:
        unknown_in_denominator = bool(panel.attrs.get("unknown_in_denominator", True))
    sums = ["graduates", "vocational", "unknown", "voc_target"]
    if keys:
        grouped = panel.groupby(keys, observed=True, sort=True, dropna=False)
        out = grouped[sums].sum()
        if "school_id" in panel.columns:
            out["schools"] = grouped["school_id"].nunique()
        out = out.reset_index()
    else:
        out = panel[sums].sum().to_frame().T
        if "school_id" in panel.columns:
            out["schools"] = panel["school_id"].nunique()
    for c in sums:
        out[c] = out[c].astype("int64")
    if "schools" not in out.columns:
        out["schools"] = pd.array([pd.NA] * len(out), dtype="Int64")
    out["schools"] = out["schools"].astype("Int64")
    out["rate"] = _ratio(out["vocational"], out["graduates"])
    out["target_rate"] = _ratio(out["voc_target"], out["graduates"])
    all_grads = out["graduates"] + (0 if unknown_in_denominator else out["unknown"])
    out["unknown_share"] = _ratio(out["unknown"], all_grads)
    return out.loc[:, [*keys, *UPTAKE_VALUES]]


def with_targets(frame: pd.DataFrame, targets: pd.DataFrame | None = None, *,
                 indicator: str = "voc_uptake_target", area_col: str | None = None,
                 rate_col: str | None = None, bounds: tuple[Any, Any] | None = None) -> pd.DataFrame:
    """Add the target in force and whether it is met to a frame with columns level and year.

    Area type of a row: ``"disadvantaged"`` where ``frame[area_col]`` is true, else ``"general"``;
    with ``area_col=None`` (district-level rows) every row is ``"general"``. The target is the
    row of ``targets`` in force for (indicator, level, year, area type) as
    ``evaluation.reference.target_in_force`` chooses it (a disadvantaged area without its own
    row falls back to the general target).

    Adds target [fraction; NaN where none applies], target_met [text: ``met`` / ``not_met`` /
    ``not_determined`` (``target_met_status``): ``frame[rate_col]`` against the target, or the
    ``bounds`` (two arrays, low and high, e.g. missing reports counted either way) when given; NA
    where no target applies], target_area_type (the area type of the row used),
    target_source and target_standing (NA where none applies).
    ``rate_col`` defaults to ``coverage_rate`` for ``counselor_coverage`` and ``target_rate``
    otherwise. Pass the same targets frame as to ``school_year_panel`` so that target_rate and
    target measure the same thing.
    """
    if targets is None:
        targets = load_targets()
    for c in ("level", "year"):
        if c not in frame.columns:
            raise ValueError(f"with_targets: the frame has no column {c}")
    if rate_col is None:
        rate_col = "coverage_rate" if indicator == "counselor_coverage" else "target_rate"
    if rate_col not in frame.columns:
        raise ValueError(f"with_targets: the frame has no column {rate_col}")
    out = frame.copy()
    if area_col is None:
        area = np.full(len(out), "general", dtype=object)
    else:
        if area_col not in out.columns:
            raise ValueError(f"with_targets: the frame has no column {area_col}")
        area = np.where(out[area_col].fillna(False).astype(bool).to_numpy(), "disadvantaged", "general")
    keys = pd.DataFrame({"level": out["level"].astype(str).to_numpy(), "year": out["year"].astype("int64").to_numpy(),
                         "_area": area})
    combos = keys.drop_duplicates().reset_index(drop=True)
    found = []
    for lv, yr, ar in combos.itertuples(index=False):  # one lookup per level x year x area type (a handful)
        row = target_in_force(targets, indicator=indicator, level=lv, year=int(yr), area_type=ar)
        found.append((np.nan, pd.NA, pd.NA, pd.NA) if row is None else
                     (float(row["target"]), row["area_type"], row["source"], row["standing"]))
    combos[["target", "target_area_type", "target_source", "target_standing"]] = pd.DataFrame(found, index=combos.index)
    looked = keys.merge(combos, on=["level", "year", "_area"], how="left", validate="many_to_one")
    out["target"] = looked["target"].astype("float64").to_numpy()
    for c in ("target_area_type", "target_source", "target_standing"):
        out[c] = pd.array(looked[c].to_numpy(), dtype="string")
    rate = out[rate_col].astype("float64").to_numpy()
    low, high = (rate, rate) if bounds is None else (np.asarray(bounds[0], dtype="float64"),
                                                      np.asarray(bounds[1], dtype="float64"))
    out["target_met"] = target_met_status(low, high, out["target"].to_numpy(dtype="float64")).array
    return out


#: The values of ``target_met`` (output contract, second round).
TARGET_MET_VALUES: tuple[str, ...] = ("met", "not_met", "not_determined")


def target_met_status(low: Any, high: Any, target: Any) -> pd.Series:
    """Three-valued attainment of a value known to lie in [low, high] (output contract, second round):
    ``met`` when low >= target, ``not_met`` when high < target, ``not_determined`` when the range
    straddles the target or a bound is missing (nothing known: not determined); NA where there is no
    target. A count is the range [value, value] and is never ``not_determined``. A text Series named
    ``target_met``, with ``low``'s index when it is a Series."""
    lo = np.asarray(low, dtype="float64")
    hi = np.asarray(high, dtype="float64")
    t = np.asarray(target, dtype="float64")
    out = np.full(lo.shape, "not_determined", dtype=object)
    with np.errstate(invalid="ignore"):
        out[lo >= t] = "met"
        out[hi < t] = "not_met"
    out[np.isnan(t)] = None
    index = low.index if isinstance(low, pd.Series) else None
    return pd.Series(pd.array(out, dtype="string"), index=index, name="target_met")


def suppress(frame: pd.DataFrame, *, min_cell: int = 5, count_col: str = "graduates",
             value_cols: Sequence[str] = SUPPRESSED_VALUES) -> pd.DataFrame:
    """Statistical disclosure control of a table of cells.

    ``suppressed`` by the toolkit's one primary rule, ``disclosure.primary_mask``: at least one
    student but fewer than ``min_cell`` (a missing count is suppressed too; an empty cell, 0
    students, reveals no one and is not). In a
    suppressed row every column of ``value_cols`` present in the frame is blanked (NaN/NA; integer
    counts become nullable ``Int64``), so that the rate and any count that would reveal it are
    left empty as the output contract asks; the cell size ``count_col`` itself is kept. Returns a
    copy with the boolean column ``suppressed``. Only primary suppression: a suppressed cell can
    still be recovered by differencing from totals published elsewhere.
    """
    if count_col not in frame.columns:
        raise ValueError(f"suppress: the frame has no column {count_col}")
    if min_cell < 1:
        raise ValueError(f"suppress: min_cell {min_cell!r}: expected an integer >= 1")
    n = pd.to_numeric(frame[count_col], errors="coerce").astype("float64").to_numpy()
    return blank_suppressed(frame, primary_mask(n, min_cell), value_cols)


# --------------------------------------------------------------------------------------------
# the evidence tables
# --------------------------------------------------------------------------------------------
def uptake_by_year(panel: pd.DataFrame, *, targets: pd.DataFrame | None = None) -> pd.DataFrame:
    """District vocational uptake per level and year against the general target in force.

    ``panel``: one or several levels' school-year panels (concatenated). Columns
    ``UPTAKE_BY_YEAR_COLUMNS`` (definitions in the module docstring).
    """
    out = with_targets(uptake(panel, by=["level", "year"]), targets)
    return out.loc[:, list(UPTAKE_BY_YEAR_COLUMNS)]


def commune_cells(panel: pd.DataFrame, *, targets: pd.DataFrame | None = None) -> pd.DataFrame:
    """Vocational uptake per level, year and commune (in the panel's geography), **not**
    suppressed: the true cells :func:`uptake_by_commune` protects.

    ``disadvantaged`` of a commune is true when every school of the commune in the panel
    stands in a disadvantaged (pre-2025) unit (so a post-2025 commune formed of mixed units
    counts as general; its target is then the general one). The target's area type follows it.
    """
    keys = ["level", "year", "commune_code", "commune_name"]
    up = uptake(panel, by=keys)
    dis = panel.groupby(keys, observed=True, sort=True)["disadvantaged"].all().rename("disadvantaged").reset_index()
    up = up.merge(dis, on=keys, how="left", validate="one_to_one")
    return with_targets(up, targets, area_col="disadvantaged")


def uptake_by_commune(panel: pd.DataFrame, *, targets: pd.DataFrame | None = None, min_cell: int = 5) -> pd.DataFrame:
    """Vocational uptake per level, year and commune (:func:`commune_cells`), with primary and
    complementary suppression (``disclosure.protect_communes``: no district total, commune
    total or area-type total minus published cells gives a hidden cell back). Columns
    ``UPTAKE_BY_COMMUNE_COLUMNS``.
    """
    from .disclosure import protect_communes

    out, _ = protect_communes(commune_cells(panel, targets=targets), min_cell=min_cell)
    return out.loc[:, list(UPTAKE_BY_COMMUNE_COLUMNS)]


def uptake_by_group(cells: pd.DataFrame, *, group_var: str | Sequence[str] = ("sex", "ethnicity"),
                    min_cell: int = 5) -> pd.DataFrame:
    """Vocational uptake per level, year and group of ``group_var`` (sex, ethnicity, poor_household).

    ``cells`` is ``evaluation.panel.student_cells`` (one or several levels). Several group
    variables give their rows stacked, told apart by ``group_var``; a group variable the data
    lacks gives no rows (an empty frame with the right columns when none is present). The group
    of poor_household is ``poor`` / ``not_poor``. Cells with fewer than ``min_cell`` graduates
    are suppressed, and complementary cells beside them (``disclosure.protect_groups``: no
    level-year total, nor a group pooled over the years as ``equity_gaps`` shows it, gives a
    hidden cell back). Columns ``UPTAKE_BY_GROUP_COLUMNS``.
    """
    from .disclosure import protect_groups

    frames = group_cells(cells, group_var=group_var)
    if not frames:
        empty = pd.DataFrame({c: pd.Series(dtype="float64") for c in UPTAKE_BY_GROUP_COLUMNS})
        for c in ("level", "group_var", "group"):
            empty[c] = empty[c].astype(str)
        empty["year"] = empty["year"].astype("int64")
        empty["suppressed"] = empty["suppressed"].astype(bool)
        return empty
    out, _ = protect_groups(pd.concat(frames, ignore_index=True), min_cell=min_cell)
    return out.loc[:, list(UPTAKE_BY_GROUP_COLUMNS)]


def group_cells(cells: pd.DataFrame, *, group_var: str | Sequence[str] = ("sex", "ethnicity")) -> list[pd.DataFrame]:
    """The true (not suppressed) cells of :func:`uptake_by_group`, one frame per group variable."""
    frames = []
    for var in _as_list(group_var):
        if var not in GROUP_VARS:
            raise ValueError(f"uptake_by_group: group_var {var!r}: expected one of {', '.join(GROUP_VARS)}")
        if var not in cells.columns:
            continue
        up = uptake(cells, by=["level", "year", var]).rename(columns={var: "group"})
        if var == "poor_household":
            up["group"] = np.where(up["group"].astype(bool), "poor", "not_poor")
        up["group"] = up["group"].astype(str)
        up.insert(2, "group_var", var)
        frames.append(up)
    return frames


def equity_hidden_groups(panel: pd.DataFrame, cells: pd.DataFrame, *, min_cell: int = 5,
                         targets: pd.DataFrame | None = None,
                         group_var: str | Sequence[str] = ("sex", "ethnicity")) -> set[tuple[str, str, str]]:
    """``(level, dimension, group)`` whose pooled rate ``equity_gaps`` must leave empty: small
    groups, their complements, and the pooled totals the protections of ``uptake_by_commune``
    and ``uptake_by_group`` hid (``disclosure.equity_hidden_groups``), so the tables agree."""
    from .disclosure import equity_hidden_groups as hidden, protect_communes, protect_groups

    frames = group_cells(cells, group_var=group_var)
    groups = protect_groups(pd.concat(frames, ignore_index=True), min_cell=min_cell)[1] if frames else None
    communes = protect_communes(commune_cells(panel, targets=targets), min_cell=min_cell)[1]
    return hidden(cells, min_cell=min_cell, groups=groups, communes=communes)


def coverage_by_year(panel: pd.DataFrame, *, targets: pd.DataFrame | None = None,
                     by: str | Sequence[str] = ()) -> pd.DataFrame:
    """Career-counseling coverage per level and year (and ``by``, e.g. ``"ethnic_boarding"``).

    Counted over the schools with graduates of the level that year: schools, covered
    (trained_counselors >= 1), not_covered, missing (no counseling row) [schools];
    coverage_rate = covered / (schools - missing) [fraction of reporting schools; NaN when none
    reported]; coverage_rate_all = covered / schools [fraction, missing counted as not covered:
    a lower bound]. The target is indicator ``counselor_coverage``, general area type, compared
    with coverage_rate. Columns ``by`` + ``COVERAGE_BY_YEAR_COLUMNS``.
    """
    extra = _as_list(by)
    keys = ["level", "year", *extra]
    missing = [c for c in [*keys, "school_id", "coverage_status"] if c not in panel.columns]
    if missing:
        raise ValueError(f"coverage_by_year: the frame has no column(s) {', '.join(missing)}")
    status = panel["coverage_status"].astype(str)
    work = panel[keys].copy()
    work["schools"] = 1
    for s in ("covered", "not_covered", "missing"):
        work[s] = (status == s).to_numpy().astype("int64")
    if panel.duplicated(["level", "year", "school_id"]).any():
        raise ValueError("coverage_by_year: the panel has more than one row per level, year and school_id")
    out = work.groupby(keys, observed=True, sort=True).sum().reset_index()
    out["coverage_rate"] = _ratio(out["covered"], out["schools"] - out["missing"])
    out["coverage_rate_all"] = _ratio(out["covered"], out["schools"])
    # a school that did not report could be either: met only if it cannot change the verdict
    out = with_targets(out, targets, indicator="counselor_coverage",
                       bounds=(out["coverage_rate_all"], _ratio(out["covered"] + out["missing"], out["schools"])))
    cols = [*keys, *[c for c in COVERAGE_BY_YEAR_COLUMNS if c not in keys]]
    return out.loc[:, cols]


def wilson_interval(successes, trials, *, z: float = 1.959963984540054) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval (default 95 %) of the proportion successes/trials, as fractions.

    ``(p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)``; NaN where trials is 0 or missing.
    """
    k = np.asarray(pd.to_numeric(pd.Series(np.ravel(successes)), errors="coerce"), dtype=float)
    n = np.asarray(pd.to_numeric(pd.Series(np.ravel(trials)), errors="coerce"), dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    bad = ~(n > 0) | np.isnan(k)
    lo, hi = np.where(bad, np.nan, centre - half), np.where(bad, np.nan, centre + half)
    return np.clip(lo, 0, 1), np.clip(hi, 0, 1)
