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


# --------------------------------------------------------------------------- labour_alignment
def _labour_frames():
    """Survey years 2021 and 2023. Điện (intermediate) 2021 has 3 graduates from one institution;
    Cơ khí (college) is taught by one institution, whose 2023 row the network hides beside its
    small 2021 row; May (elementary) has two institutions, one of 2 graduates in 2023."""
    demand = pd.DataFrame(
        [(y, "DN1", "29266", "C", t, q, 20) for y in (2021, 2023)
         for t, q in (("Điện", "intermediate"), ("Cơ khí", "college"), ("May", "elementary"), ("May", "none"))],
        columns=["survey_year", "enterprise_id", "commune_code", "sector", "trade", "qualification", "workers_needed"])
    rows = [  # year, institution, trade, level, places, enrolled, graduated, employed_12m
        (2021, "I1", "Điện", "intermediate", 20, 12, 3, 2), (2023, "I1", "Điện", "intermediate", 20, 18, 15, 11),
        (2022, "I1", "Điện", "intermediate", 20, 16, 14, 9),
        (2021, "I2", "Cơ khí", "college", 30, 4, 3, 3), (2022, "I2", "Cơ khí", "college", 30, 22, 17, 12),
        (2023, "I2", "Cơ khí", "college", 30, 20, 16, 12),
        (2021, "I1", "May", "elementary", 40, 30, 25, 20), (2021, "I3", "May", "elementary", 40, 28, 22, 15),
        (2023, "I1", "May", "elementary", 40, 31, 26, 20), (2023, "I3", "May", "elementary", 40, 9, 2, 1),
    ]
    supply = pd.DataFrame([(y, i, f"Cơ sở {i}", "29266", t, lv, p, e, g, m) for y, i, t, lv, p, e, g, m in rows],
                          columns=["year", "institution_id", "institution_name", "commune_code", "trade", "level",
                                   "places", "enrolled", "graduated", "employed_12m"])
    return demand, supply


def attack_labour(alignment: pd.DataFrame, network: pd.DataFrame, summary: pd.DataFrame,
                  true_network: pd.DataFrame) -> list[str]:
    """What the alignment rows, the network rows and the network summary give away: every hidden
    institution row and every hidden alignment row, for graduated and employed_12m."""
    key = ["year", "institution_id", "trade", "level"]
    net = network.merge(true_network[key + ["graduated", "employed_12m"]], on=key, suffixes=("", "_true"))
    hid = net[net["suppressed"]].reset_index(drop=True)
    size = np.fmax(hid["enrolled"].to_numpy(float), hid["graduated_true"].to_numpy(float))
    found = []
    for count, col in (("graduated", "graduates"), ("employed_12m", "employed_12m")):
        eqs = []
        for r in alignment[alignment["matched"] & alignment["supply_year_covered"]
                           & ~alignment["suppressed"]].itertuples(index=False):
            m = (net["year"] == r.survey_year) & (net["trade"] == r.trade) & (net["level"] == r.qualification)
            w = ((hid["year"] == r.survey_year) & (hid["trade"] == r.trade) & (hid["level"] == r.qualification))
            if w.any():
                eqs.append((w.to_numpy(float), getattr(r, col) - net.loc[m & ~net["suppressed"], count].sum()))
        for r in summary[~summary["suppressed"]].itertuples(index=False):
            m = (net["trade"] == r.trade) & (net["level"] == r.level)
            w = (hid["trade"] == r.trade) & (hid["level"] == r.level)
            if w.any():
                eqs.append((w.to_numpy(float), getattr(r, count) - net.loc[m & ~net["suppressed"], count].sum()))
        secrets = [(f"{count} of {r.institution_id} {r.trade} {r.level} {r.year}", np.eye(len(hid))[i])
                   for i, r in enumerate(hid.itertuples(index=False))]
        for r in alignment[alignment["suppressed"]].itertuples(index=False):
            w = (hid["year"] == r.survey_year) & (hid["trade"] == r.trade) & (hid["level"] == r.qualification)
            secrets.append((f"{col} of alignment {r.trade} {r.qualification} {r.survey_year}", w.to_numpy(float)))
        found += _attack(pd.DataFrame({"size": size}), eqs, secrets)
    return found


def test_labour_alignment_hides_small_rows_and_what_gives_them_away():
    from evaluation import labour

    demand, supply = _labour_frames()
    network = labour.vocational_network(supply)
    alignment, net = dc.protect_labour(labour.labour_alignment(demand, supply), network, min_cell=MIN_CELL)
    a = alignment.set_index(["survey_year", "trade", "qualification"])
    # 3 graduates of Điện in 2021: below min_cell, hidden (it was published as it was)
    assert a.loc[(2021, "Điện", "intermediate"), "suppressed"]
    assert a.loc[(2021, "Điện", "intermediate"), ["graduates", "employed_12m"]].isna().all()
    # the one institution of Cơ khí: its 2023 row hides the small 2021 row in the network, so the
    # alignment row, which is that institution's row, is hidden too
    assert net.set_index(["year", "institution_id"]).loc[(2023, "I2"), "suppressed"]
    assert a.loc[(2023, "Cơ khí", "college"), "suppressed"]
    # demand, places and the gap are not outcomes of people: they stay; rows without supply are not hidden
    assert a.loc[(2021, "Điện", "intermediate"), ["demand", "places", "gap"]].notna().all()
    assert not a.loc[(2021, "May", "none"), "suppressed"]
    assert not a.loc[(2021, "May", "elementary"), "suppressed"]
    summary = dc.protect_network(labour.network_summary(supply, by=["trade", "level"]), min_cell=MIN_CELL,
                                 partitions=[["level"]])
    assert attack_labour(alignment, net, summary, network) == []
    # the table the section publishes passes the contract's privacy check; unprotected it does not
    from evaluation.evidence import EvidenceError, labour_alignment_table

    labour_alignment_table(alignment, min_cell=MIN_CELL)
    with pytest.raises(EvidenceError, match="below min_cell"):
        labour_alignment_table(labour.labour_alignment(demand, supply), min_cell=MIN_CELL)
    # what the notebook shows from the alignment leaves the hidden graduates out of every sum
    st = labour.mismatch_by_trade(alignment).set_index(["survey_year", "trade"])
    assert pd.isna(st.loc[(2021, "Điện"), "graduates"]) and st.loc[(2021, "May"), "graduates"] == 47
    cov = labour.local_coverage(alignment).set_index("survey_year")["covered_by_graduates"]
    assert cov.isna().all()


def test_labour_alignment_unprotected_gives_the_small_rows_away():
    """The attack can fail: the alignment as it was published (no suppression) beside the network."""
    from evaluation import labour

    demand, supply = _labour_frames()
    network = labour.vocational_network(supply)
    _, net = dc.protect_labour(labour.labour_alignment(demand, supply), network, min_cell=MIN_CELL)
    plain = labour.labour_alignment(demand, supply).assign(suppressed=False)
    summary = dc.protect_network(labour.network_summary(supply, by=["trade", "level"]), min_cell=MIN_CELL,
                                 partitions=[["level"]])
    found = attack_labour(plain, net, summary, network)
    assert any("I1 Điện intermediate 2021" in f for f in found) and any("I2 Cơ khí college" in f for f in found)
