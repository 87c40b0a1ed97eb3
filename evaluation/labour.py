"""Labour demand against vocational supply, and the vocational education network.

Inputs are the optional tables of the data contract, typed by ``evaluation.data.load_cohort``:
``labour_demand`` (enterprise surveys: survey_year, trade, qualification, workers_needed) and
``vocational_supply`` (year, institution_id, commune_code, trade, level, places, enrolled,
graduated, employed_12m). Every function takes those frames as they are (sums of counts, no loop
over rows) and returns a tidy frame; ``*_findings`` turn the frames into sentences (vi, en).

Definitions (units in brackets)
-------------------------------
demand [workers]
    Sum of ``workers_needed`` of the enterprises surveyed in ``survey_year`` for a trade and
    qualification. A survey counts the respondents only: it is a lower bound of the district's need.
places, graduates [people]
    Planned intake (``places``) and graduates (``graduated``) of the vocational network in the
    survey year, for the same trade at the vocational level equal to the qualification
    (elementary, intermediate, college). Qualifications ``none`` and ``university`` have no
    vocational level: their rows keep the demand and leave supply empty (``matched`` false).
    A survey year the supply table does not cover leaves supply empty too; a covered year
    without the trade/level gives 0 places.
ratio [places per worker needed]
    places / demand (NaN when demand is 0): below 1 local training plans fewer places than
    enterprises ask for.
gap [workers]
    demand - places: positive = unmet demand, negative = places beyond the surveyed demand.
share of demand covered locally [fraction]
    sum over trade x level of min(supply, demand) / sum of demand, over the matched rows
    (``covered_by_places`` with places, ``covered_by_graduates`` with graduates).
fill_rate [fraction]
    enrolled / places of an institution, trade, level and year.
completion_rate [fraction]
    graduated / enrolled in the same year (a cross-section: with stable intake it approximates
    the completion of a cohort).
employment_rate [fraction]
    employed_12m / graduated: graduates employed within 12 months.
local provision of a commune
    At least one institution of the network with places in the commune in the year considered;
    in the post-2025 geography a commune has provision when any of its former units has. A
    commune is a Khmer commune when its Khmer share is at least ``khmer_threshold``
    (``params.khmer_commune_threshold``); a post-2025 commune when any of its former units is.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from .contract import GEOGRAPHIES, QUALIFICATIONS, VOC_LEVELS

ALIGNMENT_COLUMNS: tuple[str, ...] = ("survey_year", "trade", "qualification", "demand", "places", "graduates",
                                      "ratio", "gap")
ALIGNMENT_EXTRA: tuple[str, ...] = ("enrolled", "employed_12m", "matched", "supply_year_covered")
NETWORK_COLUMNS: tuple[str, ...] = ("year", "institution_id", "trade", "level", "places", "enrolled", "fill_rate",
                                    "completion_rate", "employment_rate")
NETWORK_EXTRA: tuple[str, ...] = ("institution_name", "commune_code", "graduated", "employed_12m")
ACCESS_COLUMNS: tuple[str, ...] = ("geography", "commune_code", "commune_name", "khmer_share", "khmer_commune",
                                   "institutions", "trades", "places", "local_provision")
TRADE_STATUS: tuple[str, ...] = ("unmet", "balanced", "over_supplied")

_DEMAND_COLS = ("survey_year", "trade", "qualification", "workers_needed")
_SUPPLY_COLS = ("year", "institution_id", "commune_code", "trade", "level", "places", "enrolled", "graduated",
                "employed_12m")


def _require(frame: pd.DataFrame | None, cols: Sequence[str], table: str) -> pd.DataFrame:
    if frame is None:
        raise ValueError(f"{table}: the cohort has no {table} table (an optional table of the data contract)")
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise ValueError(f"{table}: missing column(s) {', '.join(missing)}; expected {', '.join(cols)}")
    return frame


def _sum_known(frame: pd.DataFrame, keys: Sequence[str], col: str) -> pd.Series:
    """Sum of ``col`` per ``keys``, missing (NA) where any row of the group has it missing: an unknown count
    (``employed_12m`` of a cohort not yet 12 months out) is not a 0."""
    v = pd.to_numeric(frame[col], errors="coerce")
    g = v.groupby([frame[k] for k in keys], sort=True)
    return g.sum(min_count=1).where(~v.isna().groupby([frame[k] for k in keys], sort=True).any())


def _ratio(num, den) -> np.ndarray:
    num = np.asarray(num, dtype="float64")
    den = np.asarray(den, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _hidden(alignment: pd.DataFrame) -> pd.Series:
    """Rows of an alignment table whose graduates are suppressed (``disclosure.protect_labour``)."""
    if "suppressed" not in alignment.columns:
        return pd.Series(False, index=alignment.index)
    return alignment["suppressed"].astype("boolean").fillna(False).astype(bool)


def _q_order(s: pd.Series) -> pd.Series:
    order = {q: i for i, q in enumerate(QUALIFICATIONS)}
    return s.map(lambda v: order.get(v, len(order)))


# --------------------------------------------------------------------------------------------
# demand against supply
# --------------------------------------------------------------------------------------------
def labour_alignment(demand: pd.DataFrame, supply: pd.DataFrame, *,
                     survey_years: Iterable[int] | None = None) -> pd.DataFrame:
    """The mismatch table: one row per survey year, trade and qualification.

    ``demand`` is the ``labour_demand`` table, ``supply`` the ``vocational_supply`` table.
    Supply rows of a trade with no surveyed demand in a survey year appear with demand 0 (an
    over-supply). Returns ``ALIGNMENT_COLUMNS`` (definitions in the module docstring; demand,
    places, graduates, gap in people; ratio places per worker needed) then ``ALIGNMENT_EXTRA``:
    enrolled, employed_12m [people], matched [the qualification has a vocational level],
    supply_year_covered [the supply table has the survey year]. Sorted by survey_year, trade,
    qualification (in the contract's order).
    """
    _require(demand, _DEMAND_COLS, "labour_demand")
    _require(supply, _SUPPLY_COLS, "vocational_supply")
    d = (demand.assign(trade=demand["trade"].astype(str), qualification=demand["qualification"].astype(str))
         .groupby(["survey_year", "trade", "qualification"], sort=True)["workers_needed"].sum()
         .rename("demand").reset_index())
    if survey_years is not None:
        d = d[d["survey_year"].isin([int(y) for y in survey_years])]
    years = sorted(int(y) for y in d["survey_year"].unique())
    keys = ["survey_year", "trade", "qualification"]
    rows = (supply.loc[supply["year"].isin(years)]
            .assign(trade=lambda x: x["trade"].astype(str), qualification=lambda x: x["level"].astype(str))
            .rename(columns={"year": "survey_year", "graduated": "graduates"}))
    s = rows.groupby(keys, sort=True)[["places", "graduates", "enrolled"]].sum()
    s["employed_12m"] = _sum_known(rows, keys, "employed_12m").to_numpy()
    s = s.reset_index()
    out = d.merge(s, on=["survey_year", "trade", "qualification"], how="outer", validate="one_to_one")
    out["demand"] = out["demand"].fillna(0).astype("int64")
    out["matched"] = out["qualification"].isin(VOC_LEVELS)
    covered_years = set(int(y) for y in supply["year"].unique())
    out["supply_year_covered"] = out["survey_year"].astype(int).isin(covered_years)
    fill0 = out["matched"] & out["supply_year_covered"] & out["places"].isna()  # no supply row: none trained
    for c in ("places", "graduates", "enrolled", "employed_12m"):
        v = out[c].astype("Float64")
        v[fill0 & v.isna()] = 0
        v[~out["matched"]] = pd.NA
        out[c] = v.astype("Int64")
    places = out["places"].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    out["ratio"] = _ratio(places, out["demand"])
    out["gap"] = (out["demand"].astype("Float64") - out["places"].astype("Float64")).astype("Int64")
    out["survey_year"] = out["survey_year"].astype("int64")
    out = out.sort_values(["survey_year", "trade", "qualification"], key=lambda c: _q_order(c) if c.name == "qualification" else c,
                          kind="stable").reset_index(drop=True)
    return out.loc[:, [*ALIGNMENT_COLUMNS, *ALIGNMENT_EXTRA]]


def mismatch_by_trade(alignment: pd.DataFrame) -> pd.DataFrame:
    """Demand and supply per survey year and trade over the vocational qualifications.

    Sums the matched rows (elementary, intermediate, college) of ``labour_alignment``; columns
    survey_year, trade, demand, places, graduates, ratio, gap (as in the alignment table) and
    demand_other [workers needed with no or a university qualification, not a vocational matter].
    """
    m = alignment.loc[alignment["matched"]]
    keys = ["survey_year", "trade"]
    out = m.groupby(keys, sort=True)[["demand", "places", "graduates"]].sum(min_count=1).reset_index()
    # a row whose graduates are suppressed (disclosure.protect_labour) leaves the trade's sum empty:
    # the sum of the others would give it back by subtraction
    hidden = _hidden(m).groupby([m[k] for k in keys], sort=True).any()
    out.loc[hidden.reindex(pd.MultiIndex.from_frame(out[keys]), fill_value=False).to_numpy(), "graduates"] = pd.NA
    other = alignment.loc[~alignment["matched"]].groupby(keys, sort=True)["demand"].sum().rename("demand_other")
    out = out.merge(other.reset_index(), on=keys, how="outer")
    out["demand"] = out["demand"].fillna(0).astype("int64")
    out["demand_other"] = out["demand_other"].fillna(0).astype("int64")
    for c in ("places", "graduates"):
        out[c] = out[c].astype("Int64")
    out["ratio"] = _ratio(out["places"].astype("Float64").to_numpy(dtype="float64", na_value=np.nan), out["demand"])
    out["gap"] = (out["demand"] - out["places"]).astype("Int64")
    return out.loc[:, ["survey_year", "trade", "demand", "places", "graduates", "ratio", "gap", "demand_other"]]


def mismatch_trend(alignment: pd.DataFrame) -> pd.DataFrame:
    """The trend of the mismatch of each trade over the survey years (vocational qualifications).

    One row per trade with at least one survey: first_year, last_year, n_surveys, gap_first,
    gap_last [workers], gap_change_per_year [workers per year: least-squares slope of the gap on
    the survey year; NaN with one survey], ratio_first, ratio_last, ratio_change_per_year
    [places per worker needed, per year]. Years without supply data are left out.
    """
    t = mismatch_by_trade(alignment)
    t = t.loc[t["places"].notna()]
    rows = []
    for trade, g in t.groupby("trade", sort=True):
        g = g.sort_values("survey_year")
        yr = g["survey_year"].to_numpy(dtype="float64")
        gap = g["gap"].astype("float64").to_numpy()
        ratio = g["ratio"].to_numpy(dtype="float64")

        def slope(v: np.ndarray) -> float:
            ok = np.isfinite(v)
            if ok.sum() < 2:
                return float("nan")
            return float(np.polyfit(yr[ok], v[ok], 1)[0])

        rows.append({"trade": trade, "first_year": int(yr[0]), "last_year": int(yr[-1]), "n_surveys": int(len(g)),
                     "gap_first": gap[0], "gap_last": gap[-1], "gap_change_per_year": slope(gap),
                     "ratio_first": ratio[0], "ratio_last": ratio[-1], "ratio_change_per_year": slope(ratio)})
    cols = ["trade", "first_year", "last_year", "n_surveys", "gap_first", "gap_last", "gap_change_per_year",
            "ratio_first", "ratio_last", "ratio_change_per_year"]
    return pd.DataFrame(rows, columns=cols)


def trade_status(alignment: pd.DataFrame, *, year: int | None = None, tolerance: float = 0.10) -> pd.DataFrame:
    """Trades with unmet demand and over-supplied trades in a survey year (default: the latest
    with supply data), over the vocational qualifications.

    ``status`` is ``unmet`` when ratio < 1 - tolerance (or places are 0 for a positive demand),
    ``over_supplied`` when ratio > 1 + tolerance (or demand is 0 for positive places), else
    ``balanced``. Columns survey_year, trade, demand, places, graduates, ratio, gap, status;
    sorted by gap, largest unmet demand first.
    """
    if not 0 <= tolerance < 1:
        raise ValueError(f"trade_status: tolerance {tolerance!r}: expected a fraction in [0, 1)")
    t = mismatch_by_trade(alignment)
    t = t.loc[t["places"].notna()]
    if t.empty:
        raise ValueError("trade_status: no survey year with vocational supply data")
    if year is None:
        year = int(t["survey_year"].max())
    t = t.loc[t["survey_year"] == int(year)].copy()
    if t.empty:
        raise ValueError(f"trade_status: survey year {year} has no demand or supply rows")
    ratio = t["ratio"].to_numpy(dtype="float64")
    dem = t["demand"].to_numpy(dtype="float64")
    pl = t["places"].astype("float64").to_numpy()
    unmet = np.where(dem > 0, ratio < 1 - tolerance, False)
    over = np.where(dem > 0, ratio > 1 + tolerance, pl > 0)
    t["status"] = np.where(unmet, "unmet", np.where(over, "over_supplied", "balanced"))
    t = t.sort_values(["gap", "trade"], ascending=[False, True], kind="stable").reset_index(drop=True)
    return t.loc[:, ["survey_year", "trade", "demand", "places", "graduates", "ratio", "gap", "status"]]


def local_coverage(alignment: pd.DataFrame) -> pd.DataFrame:
    """The share of the surveyed demand that local training covers, per survey year.

    Over the matched rows (trade x vocational level): covered_by_places = sum min(places,
    demand) / sum demand, covered_by_graduates = sum min(graduates, demand) / sum demand
    [fractions]. Also demand_vocational [workers needed at a vocational level], demand_all [all
    qualifications], vocational_share = demand_vocational / demand_all. Years without supply
    data are left out.
    """
    m = alignment.loc[alignment["matched"] & alignment["supply_year_covered"]].copy()
    hidden = _hidden(m).groupby(m["survey_year"], sort=True).any()
    dem = m["demand"].to_numpy(dtype="float64")
    m["_by_places"] = np.minimum(m["places"].astype("float64").to_numpy(), dem)
    m["_by_grads"] = np.minimum(m["graduates"].astype("float64").to_numpy(), dem)
    g = m.groupby("survey_year", sort=True)[["demand", "_by_places", "_by_grads"]].sum()
    total = alignment.groupby("survey_year", sort=True)["demand"].sum().rename("demand_all")
    out = g.join(total, how="left").reset_index()
    out["covered_by_places"] = _ratio(out["_by_places"], out["demand"])
    out["covered_by_graduates"] = _ratio(out["_by_grads"], out["demand"])
    # not computed in a year with suppressed graduates (it would give them back)
    out.loc[hidden.reindex(out["survey_year"], fill_value=False).to_numpy(), "covered_by_graduates"] = np.nan
    out = out.rename(columns={"demand": "demand_vocational"})
    out["vocational_share"] = _ratio(out["demand_vocational"], out["demand_all"])
    for c in ("demand_vocational", "demand_all"):
        out[c] = out[c].astype("int64")
    return out.loc[:, ["survey_year", "demand_vocational", "demand_all", "vocational_share", "covered_by_places",
                       "covered_by_graduates"]]


# --------------------------------------------------------------------------------------------
# the vocational network
# --------------------------------------------------------------------------------------------
def vocational_network(supply: pd.DataFrame) -> pd.DataFrame:
    """One row per year, institution, trade and level: places against enrolment, completion and
    employment within 12 months.

    Returns ``NETWORK_COLUMNS`` then ``NETWORK_EXTRA`` (institution_name when the table has it,
    commune_code, graduated, employed_12m). Rates are fractions (definitions in the module
    docstring); NaN where the denominator is 0. Rows with the same key are summed.
    """
    _require(supply, _SUPPLY_COLS, "vocational_supply")
    keys = ["year", "institution_id", "trade", "level"]
    s = supply.assign(**{c: supply[c].astype(str) for c in ("institution_id", "trade", "level", "commune_code")})
    if "institution_name" not in s.columns:
        s = s.assign(institution_name=s["institution_id"])
    out = s.groupby(keys, sort=True).agg(
        institution_name=("institution_name", "first"), commune_code=("commune_code", "first"),
        places=("places", "sum"), enrolled=("enrolled", "sum"), graduated=("graduated", "sum"))
    out["employed_12m"] = _sum_known(s, keys, "employed_12m").to_numpy()  # unknown stays unknown, not 0
    out = out.reset_index()
    out["fill_rate"] = _ratio(out["enrolled"], out["places"])
    out["completion_rate"] = _ratio(out["graduated"], out["enrolled"])
    out["employment_rate"] = _ratio(out["employed_12m"], out["graduated"])
    return out.loc[:, [*NETWORK_COLUMNS, *NETWORK_EXTRA]]


def network_summary(supply: pd.DataFrame, *, by: str | Sequence[str] = ("trade", "level"),
                    years: Iterable[int] | None = None) -> pd.DataFrame:
    """Pooled fill, completion and employment rates of the network by ``by`` (any of year,
    institution_id, commune_code, trade, level) over ``years`` (default all).

    Columns ``by`` + institutions [count], places, enrolled, graduated, employed_12m [people; over the rows
    where it is known], fill_rate, completion_rate, employment_rate [fractions, ratios of the sums;
    employment_rate = employed_12m / the graduates of the rows where employed_12m is known].
    """
    keys = [by] if isinstance(by, str) else list(by)
    net = vocational_network(supply)
    if years is not None:
        net = net.loc[net["year"].isin([int(y) for y in years])]
    known = net["employed_12m"].notna()
    net = net.assign(graduated_known=net["graduated"].where(known, 0))  # graduates whose employment is known
    g = net.groupby(keys, sort=True)
    out = g[["places", "enrolled", "graduated"]].sum()
    out["employed_12m"] = g["employed_12m"].sum(min_count=1)
    out.insert(0, "institutions", g["institution_id"].nunique())
    out = out.reset_index()
    out["fill_rate"] = _ratio(out["enrolled"], out["places"])
    out["completion_rate"] = _ratio(out["graduated"], out["enrolled"])
    # employment over the graduates whose employment is known (a cohort not yet 12 months out is left out)
    out["employment_rate"] = _ratio(out["employed_12m"], g["graduated_known"].sum().to_numpy())
    return out


def provision_access(communes: pd.DataFrame, supply: pd.DataFrame, *, geography: str = "pre2025",
                     khmer_threshold: float = 0.15, year: int | None = None) -> pd.DataFrame:
    """Which communes have local vocational provision, Khmer communes first.

    ``communes`` is the communes table (pre-2025 units), ``supply`` the vocational_supply table;
    ``year`` defaults to the latest year of the supply table. ``geography="post2025"`` groups the
    units into the communes formed on 1/7/2025 (``evaluation.panel.post2025_map``); a post-2025
    commune's khmer_share is the largest of its former units'.

    Columns ``ACCESS_COLUMNS``: geography, commune_code, commune_name, khmer_share [fraction],
    khmer_commune [share >= khmer_threshold], institutions [count], trades [count of trades
    offered], places [planned intake], local_provision [bool]. Sorted: communes without provision
    first, Khmer communes first among them, then by khmer_share descending.
    """
    from .panel import post2025_map

    if geography not in GEOGRAPHIES:
        raise ValueError(f"provision_access: geography {geography!r}: expected one of {', '.join(GEOGRAPHIES)}")
    if not 0 <= khmer_threshold <= 1:
        raise ValueError(f"provision_access: khmer_threshold {khmer_threshold!r}: expected a fraction in 0..1")
    _require(supply, _SUPPLY_COLS, "vocational_supply")
    _require(communes, ("commune_code", "commune_name", "khmer_share"), "communes")
    if year is None:
        year = int(supply["year"].max())
    s = supply.loc[(supply["year"] == int(year)) & (supply["places"] > 0)].copy()
    s["commune_code"] = s["commune_code"].astype(str)
    c = communes.loc[:, ["commune_code", "commune_name", "khmer_share"]].copy()
    c["commune_code"] = c["commune_code"].astype(str)
    unknown = sorted(set(s["commune_code"]) - set(c["commune_code"]))
    if unknown:
        raise ValueError(f"vocational_supply: column commune_code, value(s) {', '.join(unknown[:10])}: "
                         "not a commune_code of the communes table")
    if geography == "post2025":
        m = post2025_map(communes).set_index("commune_code")
        to_new = c["commune_code"].map(m["merged_into_code"]).astype(str)
        c = (c.assign(commune_code=to_new.to_numpy(),
                      commune_name=c["commune_code"].map(m["merged_into_name"]).astype(str).to_numpy())
             .groupby(["commune_code", "commune_name"], sort=True)["khmer_share"].max().reset_index())
        s["commune_code"] = s["commune_code"].map(m["merged_into_code"]).astype(str)
    prov = s.groupby("commune_code").agg(institutions=("institution_id", "nunique"), trades=("trade", "nunique"),
                                        places=("places", "sum"))
    out = c.merge(prov.reset_index(), on="commune_code", how="left")
    for col in ("institutions", "trades", "places"):
        out[col] = out[col].fillna(0).astype("int64")
    out["khmer_share"] = out["khmer_share"].astype("float64")
    out["khmer_commune"] = out["khmer_share"] >= khmer_threshold
    out["local_provision"] = out["institutions"] > 0
    out["geography"] = geography
    out = out.sort_values(["local_provision", "khmer_commune", "khmer_share", "commune_code"],
                          ascending=[True, False, False, True], kind="stable").reset_index(drop=True)
    out.attrs.update(year=int(year), khmer_threshold=float(khmer_threshold))
    return out.loc[:, list(ACCESS_COLUMNS)]
