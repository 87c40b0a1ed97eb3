"""Complementary suppression (evaluation.disclosure) against known patterns and an attacker.

The attacker here is independent of the module's own audit: it enumerates every integer
assignment of the suppressed cells that agrees with the published totals, cells and sizes, and
a cell is recovered when all assignments give it the same value.
"""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from evaluation.disclosure import blank_suppressed, primary_mask, protect, recoverable_cells


def brute_force_recovered(frame: pd.DataFrame, sup: np.ndarray, partitions, value_col="vocational"):
    """Cells (row positions) whose value every consistent integer assignment agrees on."""
    size = frame["graduates"].to_numpy()
    val = frame[value_col].to_numpy()
    cells = list(np.flatnonzero(sup))
    groups = []
    for keys in partitions:
        for _, idx in frame.reset_index(drop=True).groupby(list(keys)).groups.items():
            groups.append(np.asarray(idx))
    # published: the total of each group and every unsuppressed cell
    residual = [(g, int(val[g].sum() - val[[c for c in g if not sup[c]]].sum())) for g in groups]
    seen: dict[int, set[int]] = {c: set() for c in cells}
    for combo in itertools.product(*[range(int(size[c]) + 1) for c in cells]):
        x = dict(zip(cells, combo))
        if all(sum(x.get(c, 0) for c in g if sup[c]) == r for g, r in residual):
            for c in cells:
                seen[c].add(x[c])
    return {c for c, vals in seen.items() if len(vals) == 1 and size[c] > 0}


def communes(sizes, vocs, year=2020):
    return pd.DataFrame({"level": "THCS", "year": year, "commune_code": [f"c{i}" for i in range(len(sizes))],
                         "graduates": sizes, "vocational": vocs})


def test_primary_mask_leaves_empty_and_large_cells():
    assert primary_mask([0, 1, 4, 5, 50, np.nan], 5).tolist() == [False, True, True, False, False, True]


def test_one_small_commune_takes_the_next_smallest_with_it():
    df = communes([3, 40, 12, 25], [1, 10, 4, 5])
    p = protect(df, min_cell=5, partitions=[["level", "year"]])
    assert p.suppressed.tolist() == [True, False, True, False]
    assert p.primary.tolist() == [True, False, False, False]
    assert p.complementary.tolist() == [False, False, True, False]
    # without the complement the district total minus the published communes gives the cell back
    primary_only = p.primary.to_numpy()
    assert brute_force_recovered(df, primary_only, [["level", "year"]]) == {0}
    assert brute_force_recovered(df, p.suppressed.to_numpy(), [["level", "year"]]) == set()


def test_two_small_cells_that_both_had_no_vocational_graduate_need_a_third():
    # residual 0 over two suppressed cells: both are 0, so the audit adds the next-smallest cell
    df = communes([3, 4, 30, 9, 60], [0, 0, 10, 2, 20])
    p = protect(df, min_cell=5, partitions=[["level", "year"]])
    assert p.suppressed.tolist() == [True, True, False, True, False]
    assert brute_force_recovered(df, p.suppressed.to_numpy(), [["level", "year"]]) == set()


def test_two_small_cells_with_a_mixed_residual_are_safe_without_complement():
    df = communes([3, 4, 30, 60], [1, 2, 10, 20])
    p = protect(df, min_cell=5, partitions=[["level", "year"]])
    assert p.suppressed.tolist() == [True, True, False, False]
    assert not p.complementary.any()


def test_two_way_table_with_both_margins_published():
    # group x year, totals published per year (across groups) and per group (across years)
    rng = np.random.default_rng(3)
    rows = []
    for y in range(2018, 2021):
        for g in ("kinh", "khmer", "hoa"):
            n = {"kinh": 9, "khmer": 6, "hoa": 2}[g] + int(rng.integers(0, 3))
            rows.append({"level": "THCS", "year": y, "group_var": "ethnicity", "group": g, "graduates": n,
                         "vocational": int(rng.binomial(n, 0.3))})
    df = pd.DataFrame(rows)
    parts = [["level", "year", "group_var"], ["level", "group_var", "group"]]
    p = protect(df, min_cell=5, partitions=parts)
    sup = p.suppressed.to_numpy()
    assert sup[(df["group"] == "hoa").to_numpy()].all()
    assert brute_force_recovered(df, p.primary.to_numpy(), parts)  # primary alone is broken
    assert brute_force_recovered(df, sup, parts) == set()
    assert not recoverable_cells(df["graduates"].to_numpy(float), df[["vocational"]].to_numpy(float),
                                 [np.flatnonzero((df["year"] == y).to_numpy()) for y in df["year"].unique()]
                                 + [np.flatnonzero((df["group"] == g).to_numpy()) for g in df["group"].unique()],
                                 sup)


def test_total_zero_is_reported_as_implied_by_totals_not_looped_on():
    df = communes([3, 4], [0, 0])
    p = protect(df, min_cell=5, partitions=[["level", "year"]])
    assert p.suppressed.all()
    assert set(p.implied_by_totals) == {0, 1}


@pytest.mark.parametrize("seed", range(6))
def test_generated_districts_with_many_small_communes_resist_the_attacker(seed):
    rng = np.random.default_rng(seed)
    rows = []
    for y in (2019, 2020):
        for c in range(7):
            n = int(rng.choice([0, 1, 2, 3, 4, 6, 9, 15]))
            rows.append({"level": "THCS", "year": y, "commune_code": f"c{c}", "graduates": n,
                         "vocational": int(rng.binomial(n, 0.4)), "college": int(rng.binomial(n, 0.1)),
                         "disadvantaged": c % 3 == 0})
    df = pd.DataFrame(rows)
    parts = [["level", "year"], ["level", "disadvantaged"]]
    p = protect(df, min_cell=5, partitions=parts, value_cols=("vocational", "college"))
    sup = p.suppressed.to_numpy()
    assert sup[p.primary.to_numpy()].all()
    implied = set(p.implied_by_totals)
    for col in ("vocational", "college"):
        if sup.sum() <= 9:  # enumeration stays small
            assert brute_force_recovered(df, sup, parts, col) <= implied
    hits = recoverable_cells(df["graduates"].to_numpy(float), df[["vocational", "college"]].to_numpy(float),
                             [np.flatnonzero(m) for m in
                              [(df["year"] == y).to_numpy() for y in (2019, 2020)]
                              + [(df["disadvantaged"] == d).to_numpy() for d in (True, False)]], sup)
    assert {h[0] for h in hits if df["graduates"].iloc[h[0]] > 0} <= implied


def test_blank_suppressed_keeps_size_and_blanks_outcomes():
    df = communes([3, 40], [1, 10])
    df["rate"] = df["vocational"] / df["graduates"]
    out = blank_suppressed(df, [True, False], ["vocational", "rate"])
    assert out["graduates"].tolist() == [3, 40]
    assert pd.isna(out["vocational"].iloc[0]) and pd.isna(out["rate"].iloc[0])
    assert out["vocational"].iloc[1] == 10 and out["suppressed"].tolist() == [True, False]


def test_bad_partition_names_the_column():
    with pytest.raises(ValueError, match="no column"):
        protect(communes([3], [1]), min_cell=5, partitions=[["level", "commune"]])


def test_pooled_totals_of_another_table_are_hidden_when_small_and_protected_when_hidden():
    # ethnic groups by year (uptake_by_group) with the year totals always published
    # (uptake_by_year) and each group pooled over the years published by equity_gaps unless small
    rows = []
    cells = {("kinh", 2019): (9, 3), ("kinh", 2020): (8, 2), ("khmer", 2019): (6, 1), ("khmer", 2020): (7, 4),
             ("hoa", 2019): (1, 1), ("hoa", 2020): (2, 1)}
    for (g, y), (n, v) in cells.items():
        rows.append({"level": "THCS", "year": y, "group_var": "ethnicity", "group": g, "graduates": n, "vocational": v})
    df = pd.DataFrame(rows)
    p = protect(df, min_cell=5, partitions=[["level", "year", "group_var"]],
                aggregates=[["level", "group_var", "group"]])
    agg = p.aggregates.set_index("group")["suppressed"]
    assert agg["hoa"]  # 3 students pooled: primary
    assert agg[["kinh", "khmer"]].sum() >= 1  # one more pooled group hidden beside it
    assert p.suppressed_aggregate(["level", "group_var", "group"], ["THCS", "ethnicity", "hoa"])
    # attacker: every integer assignment of the hidden cells agreeing with the year totals and the
    # pooled totals still published; the hidden pooled sum of hoa must not be pinned down
    sup = p.suppressed.to_numpy()
    size, val = df["graduates"].to_numpy(), df["vocational"].to_numpy()
    hidden = list(np.flatnonzero(sup))
    cons = [np.flatnonzero((df["year"] == y).to_numpy()) for y in (2019, 2020)]
    cons += [np.flatnonzero((df["group"] == g).to_numpy()) for g in agg.index if not agg[g]]
    sums = {}
    for combo in itertools.product(*[range(int(size[c]) + 1) for c in hidden]):
        x = dict(zip(hidden, combo))
        full = [x.get(i, val[i]) for i in range(len(df))]
        if all(sum(full[i] for i in g) == val[g].sum() for g in cons):
            for g in agg.index:
                if agg[g]:
                    sums.setdefault(g, set()).add(sum(full[i] for i in np.flatnonzero((df["group"] == g).to_numpy())))
            for c in hidden:
                sums.setdefault(c, set()).add(x[c])
    assert all(len(v) > 1 for v in sums.values()), sums
