"""Goodman-Bacon decomposition: hand-built panels where every 2x2 and weight is known, and the identity
(weights sum to 1, weighted sum = TWFE coefficient) against the fixed-effects engine on noisy panels."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.effects import twfe
from evaluation.effects.bacon import COMPARISON_TYPES, bacon_decomposition


def panel(first: dict[int, int], y, years=range(1, 7)) -> pd.DataFrame:
    """One row per unit and year; ``y(unit, year, first)`` gives the outcome."""
    rows = []
    for u, g in first.items():
        for t in years:
            rows.append({"school_id": u, "year": t, "first_covered": g, "rate": y(u, t, g),
                         "treated": int(g > 0 and t >= g), "graduates": 1.0})
    return pd.DataFrame(rows)


def test_three_groups_hand_built_weights_and_estimates():
    """Early (k = 3), late (l = 5), never (U); one unit each, 6 periods; effect 1 in the first treated year
    growing by 1 a year. Shares n = 1/3; D_k = 4/6, D_l = 2/6. Goodman-Bacon's weights by hand:
    V^D = mean of the two-way demeaned D squared; s_kU = (2/3)^2 (1/4) (4/6)(2/6) / V^D, etc."""
    def y(u, t, g):
        return 10.0 * u + 0.5 * t + ((t - g + 1) if g and t >= g else 0.0)
    d = panel({1: 3, 2: 5, 3: 0}, y)
    b = bacon_decomposition(d)
    tab = b.table.set_index(["type", "treated", "control"])
    # the 2x2 estimates, by hand from the means
    # k=3 vs U, all periods: treated post (t=3..6) effects 1,2,3,4 -> mean 2.5; pre 0
    assert tab.loc[("treated_vs_never", "3", "never"), "estimate"] == pytest.approx(2.5)
    # l=5 vs U: post effects 1,2 -> 1.5
    assert tab.loc[("treated_vs_never", "5", "never"), "estimate"] == pytest.approx(1.5)
    # k=3 vs l=5 in periods 1..4: k's post (3,4) effects 1,2 -> 1.5
    assert tab.loc[("earlier_vs_later", "3", "5"), "estimate"] == pytest.approx(1.5)
    # l=5 vs already-treated k=3 in periods 3..6: l's change 1.5 minus k's change (mean(3,4) - mean(1,2) = 2)
    assert tab.loc[("later_vs_earlier", "5", "3"), "estimate"] == pytest.approx(1.5 - 2.0)
    D = np.array([[0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 1, 1], [0, 0, 0, 0, 0, 0]], dtype=float)
    Dt = D - D.mean(1, keepdims=True) - D.mean(0, keepdims=True) + D.mean()
    VD = (Dt ** 2).mean()
    n, Dk, Dl = 1 / 3, 4 / 6, 2 / 6
    w_kU = (2 * n) ** 2 * 0.25 * Dk * (1 - Dk) / VD
    w_lU = (2 * n) ** 2 * 0.25 * Dl * (1 - Dl) / VD
    w_kl = ((2 * n) * (1 - Dl)) ** 2 * 0.25 * ((Dk - Dl) / (1 - Dl)) * ((1 - Dk) / (1 - Dl)) / VD
    w_lk = ((2 * n) * Dk) ** 2 * 0.25 * (Dl / Dk) * ((Dk - Dl) / Dk) / VD
    np.testing.assert_allclose(tab["weight"].loc[[("treated_vs_never", "3", "never"), ("treated_vs_never", "5", "never"),
                                                  ("earlier_vs_later", "3", "5"), ("later_vs_earlier", "5", "3")]],
                               [w_kU, w_lU, w_kl, w_lk], rtol=1e-12)
    assert b.table["weight"].sum() == pytest.approx(1.0, abs=1e-12)
    tw = float(twfe(d, weights=None).params["treated"])
    assert (b.table["weight"] * b.table["estimate"]).sum() == pytest.approx(tw, abs=1e-12)
    assert b.twfe == pytest.approx(tw, abs=1e-12)
    # the already-treated comparison is negative here: it is why TWFE falls below every clean 2x2
    assert b.weight_already_treated == pytest.approx(w_lk) and b.twfe < 1.5


def test_single_cohort_is_one_2x2_with_weight_one():
    d = panel({1: 4, 2: 4, 3: 0, 4: 0}, lambda u, t, g: u + 0.3 * t + (2.0 if g and t >= g else 0.0))
    b = bacon_decomposition(d)
    assert len(b.table) == 1 and b.table["weight"].iloc[0] == pytest.approx(1.0)
    assert b.table["estimate"].iloc[0] == pytest.approx(2.0) and b.twfe == pytest.approx(2.0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_identity_on_noisy_staggered_panels_with_always_treated(seed):
    """Random staggered panel (always-treated and never-treated units, noise): weights sum to 1 and the
    weighted sum is the TWFE coefficient of the fixed-effects engine (unweighted), to rounding."""
    rng = np.random.default_rng(seed)
    first = {u: int(rng.choice([0, 1, 3, 4, 5, 7])) for u in range(30)}
    d = panel(first, lambda u, t, g: rng.normal() + 0.2 * u + 0.1 * t + (0.5 * (t - g + 1) if g and t >= g else 0.0),
              years=range(1, 9))
    b = bacon_decomposition(d)
    assert set(b.table["type"]) <= set(COMPARISON_TYPES)
    assert b.table["weight"].min() >= 0 and b.table["weight"].sum() == pytest.approx(1.0, abs=1e-10)
    tw = float(twfe(d, weights=None).params["treated"])
    assert (b.table["weight"] * b.table["estimate"]).sum() == pytest.approx(tw, abs=1e-10)
    bt = b.by_type()
    assert bt["weight"].sum() == pytest.approx(1.0)
    s = b.sentences(reported_pp=3.0)
    assert "diagnostic" in s["en"] and "không phải tác động" in s["vi"] and "," in s["vi"]


def test_unbalanced_units_left_out_and_bad_input():
    d = panel({1: 3, 2: 0, 3: 5, 4: 0}, lambda u, t, g: float(u + t))
    b = bacon_decomposition(d[~((d["school_id"] == 4) & (d["year"] == 2))])
    assert b.dropped_units == 1 and b.n_units == 3 and "balanced" in b.notes[0]
    with pytest.raises(ValueError, match="no column 'nope'"):
        bacon_decomposition(d, outcome="nope")
    with pytest.raises(ValueError, match="does not vary"):
        bacon_decomposition(d.assign(first_covered=0))
