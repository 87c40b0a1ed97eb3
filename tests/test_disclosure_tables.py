"""No suppressed cell of a review's published tables can be recomputed from the others.

The attacker here reads only what the tables publish (as a reader of the bundle would): the
district totals of ``uptake_by_year``, the communes and groups with their sizes and the cells
left visible, ``equity_gaps``' pooled rates with the group sizes, and the per-school uptake a
notebook displays. It writes every relation between them as linear equations, bounds each
hidden count by 0 and its cell's size, and asks a linear program for the smallest and largest
value of each hidden count and of each hidden pooled group. Recovered = one integer left.
It runs on the synthetic sample and on generated districts with many small communes.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from evaluation import disclosure as dc
from evaluation import indicators
from evaluation.data import load_cohort
from evaluation.panel import school_year_panel, student_cells
from evaluation.sample import write_sample

MIN_CELL = 5


def published_tables(folder, *, min_cell=MIN_CELL):
    cohort = load_cohort(folder)
    panel = pd.concat([school_year_panel(cohort, level=lv) for lv in ("THCS", "THPT")], ignore_index=True)
    cells = pd.concat([student_cells(cohort, level=lv) for lv in ("THCS", "THPT")], ignore_index=True)
    by_year = indicators.uptake(panel, by=["level", "year"])
    keys = ["level", "year", "commune_code"]
    com = indicators.uptake(panel, by=keys)
    dis = panel.groupby(keys, observed=True)["disadvantaged"].all().rename("disadvantaged").reset_index()
    com = com.merge(dis, on=keys)
    com_pub, com_p = dc.protect_communes(com, min_cell=min_cell)
    frames = []
    for var in ("sex", "ethnicity"):
        up = indicators.uptake(cells, by=["level", "year", var]).rename(columns={var: "group"})
        up.insert(2, "group_var", var)
        frames.append(up)
    grp_pub, grp_p = dc.protect_groups(pd.concat(frames, ignore_index=True), min_cell=min_cell)
    hidden = dc.equity_hidden_groups(cells, min_cell=min_cell, groups=grp_p, communes=com_p)
    # what equity_gaps publishes: each group's pooled rate unless hidden (raw gap rows)
    pooled = []
    for dim, col in (("sex", "sex"), ("ethnicity", "ethnicity"), ("disadvantaged", "disadvantaged")):
        g = cells[col].astype(str) if dim != "disadvantaged" else np.where(cells[col].astype(bool), "disadvantaged",
                                                                            "not_disadvantaged")
        t = cells.assign(grp=g).groupby(["level", "grp"])[["graduates", "vocational"]].sum().reset_index()
        for r in t.itertuples(index=False):
            if (r.level, dim, r.grp) not in hidden:
                pooled.append({"level": r.level, "dimension": dim, "group": r.grp, "n": r.graduates,
                               "rate_group": r.vocational / r.graduates if r.graduates else np.nan})
    school = indicators.uptake(panel, by=["level", "commune_code", "school_id"])
    school_pub = dc.protect_schools(school, min_cell=min_cell, communes=com_p)
    return {"uptake_by_year": by_year, "uptake_by_commune": com_pub, "uptake_by_group": grp_pub,
            "equity_pooled": pd.DataFrame(pooled), "uptake_by_school": school_pub, "hidden_pooled": hidden,
            "_true": {"commune": com, "group": pd.concat(frames, ignore_index=True)}}


def _attack(unknowns: pd.DataFrame, equations: list[tuple[np.ndarray, float]],
            secrets: list[tuple[str, np.ndarray]]) -> list[str]:
    """Secrets (sums of unknowns) the equations and 0 <= x <= size pin to one integer."""
    n = len(unknowns)
    if n == 0:
        return []
    ub = unknowns["size"].to_numpy(float)
    a = np.array([e for e, _ in equations]) if equations else None
    b = np.array([v for _, v in equations]) if equations else None
    found = []
    for name, w in secrets:
        lo = linprog(w, A_eq=a, b_eq=b, bounds=list(zip(np.zeros(n), ub)), method="highs")
        hi = linprog(-w, A_eq=a, b_eq=b, bounds=list(zip(np.zeros(n), ub)), method="highs")
        assert lo.success and hi.success, f"the published tables contradict each other ({name})"
        if w @ ub > 0 and math.floor(-hi.fun + 1e-7) - math.ceil(lo.fun - 1e-7) < 1:
            found.append(f"{name} in [{lo.fun:.3f}, {-hi.fun:.3f}]")
    return found


def attack_communes(t) -> list[str]:
    com, year = t["uptake_by_commune"], t["uptake_by_year"]
    hid = com[com["suppressed"] & (com["graduates"] > 0)].reset_index(drop=True)
    unknowns = pd.DataFrame({"size": hid["graduates"]})
    found = []
    for count in ("vocational", "voc_target", "unknown"):
        # a level-year whose published total is 0 (or all its graduates) tells every commune's count
        # by itself: no pattern of suppression can hide it, so it is not the pattern's disclosure
        tot = hid.merge(year[["level", "year", count, "graduates"]], on=["level", "year"], suffixes=("", "_t"))
        plain = ((tot[f"{count}_t"] == 0) | (tot[f"{count}_t"] == tot["graduates_t"])).to_numpy()
        eqs = []
        for (lv, y), g in com.groupby(["level", "year"]):
            total = year.loc[(year["level"] == lv) & (year["year"] == y), count].iloc[0]
            w = ((hid["level"] == lv) & (hid["year"] == y)).to_numpy(float)
            if w.any():
                eqs.append((w, total - g.loc[~g["suppressed"], count].sum()))
        # a commune pooled over the years: the per-school display adds up to it when every school shows
        sch = t["uptake_by_school"]
        for (lv, c), g in sch.groupby(["level", "commune_code"]):
            if not g["suppressed"].any():
                w = ((hid["level"] == lv) & (hid["commune_code"] == c)).to_numpy(float)
                if w.any():
                    pub = com[(com["level"] == lv) & (com["commune_code"] == c) & ~com["suppressed"]][count].sum()
                    eqs.append((w, g[count].sum() - pub))
        # equity_gaps' pooled rate of the disadvantaged / other communes
        if count == "vocational":
            for r in t["equity_pooled"].query("dimension == 'disadvantaged'").itertuples(index=False):
                flag = r.group == "disadvantaged"
                m = (com["level"] == r.level) & (com["disadvantaged"] == flag)
                w = ((hid["level"] == r.level) & (hid["disadvantaged"] == flag)).to_numpy(float)
                if w.any():
                    eqs.append((w, round(r.rate_group * r.n) - com.loc[m & ~com["suppressed"], count].sum()))
        secrets = [(f"{count} of {r.level} {r.year} commune {r.commune_code}", np.eye(len(hid))[i])
                   for i, r in enumerate(hid.itertuples(index=False)) if not plain[i]]
        found += _attack(unknowns, eqs, secrets)
    return found


def attack_groups(t) -> list[str]:
    grp, year = t["uptake_by_group"], t["uptake_by_year"]
    hid = grp[grp["suppressed"] & (grp["graduates"] > 0)].reset_index(drop=True)
    unknowns = pd.DataFrame({"size": hid["graduates"]})
    eqs = []
    for (lv, y, var), g in grp.groupby(["level", "year", "group_var"]):
        total = year.loc[(year["level"] == lv) & (year["year"] == y), "vocational"].iloc[0]
        w = ((hid["level"] == lv) & (hid["year"] == y) & (hid["group_var"] == var)).to_numpy(float)
        if w.any():
            eqs.append((w, total - g.loc[~g["suppressed"], "vocational"].sum()))
    for r in t["equity_pooled"].query("dimension in ['sex', 'ethnicity']").itertuples(index=False):
        m = (grp["level"] == r.level) & (grp["group_var"] == r.dimension) & (grp["group"] == r.group)
        w = ((hid["level"] == r.level) & (hid["group_var"] == r.dimension) & (hid["group"] == r.group)).to_numpy(float)
        if w.any():
            eqs.append((w, round(r.rate_group * r.n) - grp.loc[m & ~grp["suppressed"], "vocational"].sum()))
    secrets = [(f"vocational of {r.level} {r.year} {r.group_var}={r.group}", np.eye(len(hid))[i])
               for i, r in enumerate(hid.itertuples(index=False))]
    # a pooled group equity_gaps hides (fewer than min_cell over the years, or its complement)
    for lv, dim, g in sorted(t["hidden_pooled"]):
        if dim in ("sex", "ethnicity"):
            m = (hid["level"] == lv) & (hid["group_var"] == dim) & (hid["group"] == g)
            shown = grp[(grp["level"] == lv) & (grp["group_var"] == dim) & (grp["group"] == g) & ~grp["suppressed"]]
            if m.any():
                secrets.append((f"pooled vocational of {lv} {dim}={g}", m.to_numpy(float)))
            elif len(shown) and shown["graduates"].sum() > 0:
                pytest.fail(f"pooled {lv} {dim}={g} is hidden in equity_gaps but every year of it is published")
    return _attack(unknowns, eqs, secrets)


def small_communes_district(folder, *, seed: int, years=range(2019, 2023), thcs_sizes=(0, 1, 2, 3, 4, 6, 8, 12)):
    """A generated district of many small communes: one THCS school each with 0-12 graduates a
    year, two THPT schools, students with sex, ethnicity (Khmer, some Hoa) and poverty."""
    from evaluation.reference import commune_crosswalk

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    cw = commune_crosswalk()
    com = pd.DataFrame({"commune_code": cw["commune_code"], "commune_name": cw["commune_name"],
                        "district_name": cw["district_name"], "province_name": cw["province_name"],
                        "khmer_share": 0.3, "disadvantaged": [i % 3 == 0 for i in range(len(cw))]})
    com.to_csv(folder / "communes.csv", index=False)
    schools = [(f"C{i:02d}", f"Trường THCS {i}", c, "THCS", False) for i, c in enumerate(com["commune_code"])]
    schools += [("P01", "Trường THPT 1", com["commune_code"].iloc[0], "THPT", False),
                ("P02", "Trường THPT 2", com["commune_code"].iloc[5], "THPT", False)]
    pd.DataFrame(schools, columns=["school_id", "school_name", "commune_code", "levels", "ethnic_boarding"]).to_csv(
        folder / "schools.csv", index=False)
    st = []
    for sid, _, _, level, _ in schools:
        for y in years:
            n = int(rng.integers(20, 60)) if level == "THPT" else int(rng.choice(thcs_sizes))
            for i in range(n):
                eth = rng.choice(["kinh", "khmer", "hoa"], p=[0.65, 0.3, 0.05])
                voc = rng.random() < 0.3
                dest = ("voc_intermediate" if voc else "thpt") if level == "THCS" else (
                    "voc_college" if voc else "university")
                st.append((f"{sid}-{y}-{i}", sid, y, level, rng.choice(["F", "M"]), eth, bool(rng.random() < 0.2),
                           "", bool(rng.random() < 0.5), dest))
    students = pd.DataFrame(st, columns=["student_key", "school_id", "year", "level", "sex", "ethnicity",
                                         "poor_household", "residence_commune_code", "counseled", "destination"])
    students.to_csv(folder / "students.csv", index=False)
    students.groupby(["school_id", "year", "level", "destination"]).size().rename("students").reset_index().to_csv(
        folder / "graduates.csv", index=False)
    pd.DataFrame([(sid, y, 1, int(rng.random() < 0.5)) for sid, *_ in schools for y in years],
                 columns=["school_id", "year", "counselors", "trained_counselors"]).to_csv(
        folder / "counseling.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def sample_tables(tmp_path_factory):
    return published_tables(write_sample(tmp_path_factory.mktemp("s") / "sample", seed=2025, scale=0.15))


def test_the_sample_has_small_cells_to_protect(sample_tables):
    grp = sample_tables["uptake_by_group"]
    assert grp["suppressed"].sum() >= 2


def test_primary_suppression_alone_is_broken(tmp_path):
    """The attack finds the cells primary suppression hid (the measured defect), so it can fail."""
    # one or two small communes a year among larger ones: the district total minus the others
    t = published_tables(small_communes_district(tmp_path / "d", seed=3, thcs_sizes=(3, 9, 15, 20, 30, 40)))
    n_small = ((t["_true"]["commune"]["graduates"] > 0) & (t["_true"]["commune"]["graduates"] < MIN_CELL)).sum()
    assert n_small >= 3
    # complementary suppression hides what it must, not the table: here 5 small cells -> 14 hidden of 64
    assert t["uptake_by_commune"]["suppressed"].sum() <= 4 * n_small
    true = t["_true"]["commune"]
    small = (true["graduates"] > 0) & (true["graduates"] < MIN_CELL)
    t["uptake_by_commune"] = dc.blank_suppressed(true, small.to_numpy(), dc.UPTAKE_BLANK)
    t["uptake_by_school"] = t["uptake_by_school"].assign(suppressed=True)
    t["equity_pooled"] = t["equity_pooled"].iloc[0:0]
    assert attack_communes(t)


def test_no_suppressed_cell_of_the_sample_can_be_recomputed(sample_tables):
    assert attack_communes(sample_tables) == []
    assert attack_groups(sample_tables) == []


@pytest.mark.parametrize("seed", [11, pytest.param(12, marks=pytest.mark.slow), pytest.param(13, marks=pytest.mark.slow),
                                  pytest.param(14, marks=pytest.mark.slow)])
def test_generated_districts_with_many_small_communes(tmp_path, seed):
    t = published_tables(small_communes_district(tmp_path / "d", seed=seed))
    assert t["uptake_by_commune"]["suppressed"].mean() > 0.2  # many small communes indeed
    assert attack_communes(t) == []
    assert attack_groups(t) == []


def test_equity_rows_of_hidden_groups_are_empty():
    gaps = pd.DataFrame({"level": ["THCS", "THCS"], "dimension": ["ethnicity", "ethnicity"],
                         "group": ["hoa", "khmer"], "reference": ["kinh", "kinh"], "gap_pp": [-33.3, -5.0],
                         "adjusted": [False, False], "ci_low": [-60.0, -9.0], "ci_high": [-1.0, -1.0],
                         "rate_group": [0.333, 0.2], "rate_reference": [0.6, 0.25]})
    out = dc.protect_equity(gaps, {("THCS", "ethnicity", "hoa")})
    assert out["suppressed"].tolist() == [True, False]
    assert out.loc[0, ["gap_pp", "ci_low", "ci_high", "rate_group", "rate_reference"]].isna().all()
    assert out.loc[1, "rate_group"] == 0.2
    out = dc.protect_equity(gaps, {("THCS", "ethnicity", "kinh")})  # the reference hidden: every row
    assert out["suppressed"].all()
    assert dc.protect_equity(gaps, set()).equals(gaps)  # nothing hidden: the table as it was


def test_vocational_network_rows_are_protected_against_the_alignment_totals():
    # three institutions teach the same trade and level in 2020; one has 3 graduates
    net = pd.DataFrame({"year": [2020, 2020, 2020, 2021, 2021], "institution_id": ["A", "B", "C", "A", "B"],
                        "trade": "Điện", "level": "intermediate", "places": 60,
                        "enrolled": [40, 30, 50, 40, 30], "graduated": [3, 25, 40, 30, 20],
                        "employed_12m": [2, 20, 30, 25, 15]})
    net["completion_rate"] = net["graduated"] / net["enrolled"]
    net["employment_rate"] = net["employed_12m"] / net["graduated"]
    out = dc.protect_network(net, min_cell=5)
    assert out["suppressed"].tolist()[0] and out["suppressed"].sum() >= 2
    hidden = out[out["suppressed"]]
    assert hidden[["graduated", "employed_12m", "completion_rate", "employment_rate"]].isna().all().all()
    # the alignment total of 2020 minus the institutions shown no longer gives institution A's outcomes
    shown = out[~out["suppressed"] & (out["year"] == 2020)]
    assert len(shown) <= 1
