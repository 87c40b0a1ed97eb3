"""Regenerate the unbalanced-panel reference of tests/test_robustness.py (needs ``pip install csdid==0.4.3``).

Not run by the tests: its output (``mpdta_drop10.csv``, ``ref_attgt.csv``, ``ref_aggte.csv``) is committed.
Run from the repository root: ``python tests/data/mpdta_unbalanced/make_reference.py``.
"""
from pathlib import Path
import warnings

import numpy as np
import pandas as pd
from csdid.att_gt import ATTgt

HERE = Path(__file__).parent
mp = pd.read_csv(HERE.parent / "mpdta" / "mpdta_tvw.csv")
rng = np.random.default_rng(20251)
drop = rng.choice(len(mp), size=len(mp) // 10, replace=False)
d = mp.drop(index=drop).reset_index(drop=True)
d.to_csv(HERE / "mpdta_drop10.csv", index=False, lineterminator="\n")

SCEN = {"drop10_nev_dr": dict(control_group="nevertreated", est_method="dr", xformla=None),
        "drop10_nyt_dr": dict(control_group="notyettreated", est_method="dr", xformla=None),
        "drop10_nev_ipw": dict(control_group="nevertreated", est_method="ipw", xformla=None),
        "drop10_nev_reg_cov": dict(control_group="nevertreated", est_method="reg", xformla="lemp~lpop"),
        "drop10_nev_dr_cov": dict(control_group="nevertreated", est_method="dr", xformla="lemp~lpop"),
        "drop10_nyt_ipw_cov": dict(control_group="notyettreated", est_method="ipw", xformla="lemp~lpop")}
cells, aggs = [], []
for name, kw in SCEN.items():
    est_method = kw.pop("est_method")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = ATTgt(yname="lemp", tname="year", idname="countyreal", gname="first.treat", data=d,
                  allow_unbalanced_panel=True, panel=True, **kw).fit(est_method=est_method, bstrap=False)
        res = m.results
        for g, t, a, s in zip(res["group"], res["year"], res["att"], res["se"]):
            cells.append((name, int(g), int(t), float(a), float(s)))
        m.aggte(typec="simple", bstrap=False)
        ag = m.atte
        aggs.append((name, "simple", float(ag["overall_att"]), float(ag["overall_se"])))
pd.DataFrame(cells, columns=["scenario", "group", "t", "att", "se"]).to_csv(HERE / "ref_attgt.csv", index=False)
pd.DataFrame(aggs, columns=["scenario", "type", "overall_att", "overall_se"]).to_csv(HERE / "ref_aggte.csv", index=False)
print(f"dropped {len(drop)} of {len(mp)} rows; {d['countyreal'].nunique()} counties left")
