"""Builders of the tables made from estimator results: trend, effect_overall, event_study."""
from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..registry import TABLES, EvidenceError
from ...results import Results
from ...status import (NOT_ESTIMABLE, NOT_INFORMATIVE, TABLE_BOUNDS_PP, NotEstimable, add_status,
                       clip_interval_pp, status_fields)
from ..table import EvidenceTable
from ._common import (_int, _make, _num, _p, _require)

#: The estimator whose row carries a level's "nothing to estimate" (recommendation ``"none"``).
NONE_REPORTS_AS = "callaway_santanna"
_TERM_CANDIDATES = ("treated", "covered", "att", "ATT", "simple", "overall", "year", "trend", "slope", "ame_year")


def _info(obj: Any) -> Mapping[str, Any]:
    if isinstance(obj, (pd.DataFrame, pd.Series)):
        return {}
    info = getattr(obj, "info", None)
    if not isinstance(info, Mapping) or not info:
        info = getattr(getattr(obj, "overall", None), "info", None)
    return info if isinstance(info, Mapping) else {}


def _resolve(obj: Any, kind: str, what: str) -> tuple[pd.DataFrame, Any]:
    """A tidy frame in percentage points from a results object, and the object holding its facts.

    ``kind`` is ``simple`` (one overall effect) or ``dynamic`` (by event time). Accepts a frame,
    Series or mapping (already in pp), a staggered-adoption results object (``aggregate(kind)``),
    an aggregation (``overall`` + ``to_frame``) or any ``EstimateResults`` (``to_frame(pp=True)``).
    """
    if isinstance(obj, pd.DataFrame):
        return obj.copy(), obj
    if isinstance(obj, pd.Series):
        return obj.to_frame().T.reset_index(drop=True), obj
    if isinstance(obj, Mapping):
        return pd.DataFrame([dict(obj)]), obj
    if isinstance(obj, Results):
        frame, facts = obj.reported(kind)
        return frame, facts
    raise EvidenceError(f"{what}: expected a results object (evaluation.results.Results) or a frame with "
                        f"estimate_pp, got {type(obj).__name__}")


def _pick_row(frame: pd.DataFrame, term: str | None, what: str) -> pd.Series:
    if term is not None:
        if "term" not in frame.columns or not (frame["term"].astype(str) == term).any():
            raise EvidenceError(f"{what}: no term {term!r} in the results (terms: "
                                f"{', '.join(frame['term'].astype(str)) if 'term' in frame.columns else '-'})")
        return frame.loc[frame["term"].astype(str) == term].iloc[0]
    if len(frame) == 1:
        return frame.iloc[0]
    if "term" in frame.columns:
        for cand in _TERM_CANDIDATES:
            hit = frame["term"].astype(str) == cand
            if hit.sum() == 1:
                return frame.loc[hit].iloc[0]
    terms = ", ".join(frame["term"].astype(str)) if "term" in frame.columns else f"{len(frame)} rows"
    raise EvidenceError(f"{what}: the results hold several terms ({terms}); name the one to report with term=")


def _pp_row(obj: Any, term: str | None, what: str) -> tuple[pd.Series, Any]:
    """One row with estimate_pp, std_error, ci_low, ci_high, p_value (percentage points), and its source."""
    frame, src = _resolve(obj, "simple", what)
    if "estimate_pp" not in frame.columns:
        raise EvidenceError(f"{what}: the results frame has no estimate_pp column (columns: {', '.join(map(str, frame.columns))}); "
                            "effects must be in percentage points (to_frame(pp=True))")
    return _pick_row(frame, term, what), src


def _test_text(t: Any, lang: str) -> str:
    stat = getattr(t, "statistic", float("nan"))
    p = getattr(t, "p_value", float("nan"))
    if getattr(t, "status", "ok") != "ok" or not np.isfinite(float(p)):
        why = getattr(t, "reason_vi" if lang == "vi" else "reason_en", "")
        return why or ("không tính được kiểm định" if lang == "vi" else "the test cannot be computed")
    dist = getattr(t, "distribution", "")
    df = getattr(t, "df", None)
    dfs = f" ({df[0]:g}, {df[1]:g})" if isinstance(df, tuple) else (f" ({df:g})" if df is not None else "")
    ps = _p(p, lang)
    base = f"{dist}{dfs} = {_num(stat, lang, 2)}, p {ps if ps.startswith('<') else '= ' + ps}"
    if lang == "vi":
        verdict = ("không có bằng chứng về khác biệt xu hướng trước khi có GV tư vấn (mức 5 %)" if p >= 0.05 else
                   "có khác biệt xu hướng trước khi có GV tư vấn (mức 5 %): cần thận trọng khi đọc tác động")
    else:
        verdict = ("no evidence of differing trends before coverage (5 % level)" if p >= 0.05 else
                   "trends differ before coverage (5 % level): read the effect with caution")
    return f"{base}: {verdict}"


def _find_pretrend(obj: Any) -> Any:
    """The joint pre-trend test a results object carries (``tests`` named pre*, ``pretrend``, ``pretest``)."""
    for o in (obj, getattr(obj, "overall", None)):
        if o is None:
            continue
        # a test corrected for few units wins over the large-sample one (R did's chi2 pre-test
        # rejects far too often with ~30 schools: benchmarks/results/monte_carlo.md)
        tests = getattr(o, "tests", None) or {}
        for t in (getattr(o, "pretest_small_sample", None), tests.get("pretest_small_sample")):
            if t is not None and hasattr(t, "p_value"):
                return t
        for name, t in tests.items():
            if t is not None and ("pre" in str(name).lower() or "pre" in str(getattr(t, "name", "")).lower()):
                return t
        for attr in ("pretrend", "pretest"):
            t = getattr(o, attr, None)
            if t is not None and hasattr(t, "p_value"):
                return t
    return None


def trend_table(results_by_level_model: Mapping[Any, Any] | pd.DataFrame, *, term: str | None = None,
                notebook: str = "", synthetic: bool = False, notes_vi: Iterable[str] = (),
                notes_en: Iterable[str] = ()) -> EvidenceTable:
    """``trend``: one row per (level, model), the trend in percentage points per year.

    ``results_by_level_model`` is one of: a mapping ``(level, model) -> results`` (the row is
    the term named ``model`` when the results have it, else ``term``, the only term, or a term
    named ``year``/``trend``/``slope``); a mapping ``level -> results`` whose every term is a
    model (``trends.TrendResults``: ``glm_binomial``, ``lpm``); or a frame with ``level, model,
    estimate_pp_per_year, std_error, ci_low, ci_high, p_value`` (``TrendResults.trend_frame()``).
    Extra columns ``n_obs`` and ``n_clusters`` come from the results' ``info``.
    """
    rows, vi, en = [], [], []
    if isinstance(results_by_level_model, pd.DataFrame):
        _require(results_by_level_model, TABLES["trend"].columns, "trend")
        df = _trend_recommended(results_by_level_model.copy())
        # an ok row whose interval is too wide to say anything is not_informative (status.informative_status)
        ok = df["status"].astype(str) == "ok"
        df.loc[ok, ["status", "reason_vi", "reason_en"]] = None
        df = add_status(df, estimate="estimate_pp_per_year", bound_pp=TABLE_BOUNDS_PP["trend"])
        for _, r in df.iterrows():
            has_n = {"n_obs", "n_clusters"} <= set(r.index) and pd.notna(r["n_obs"]) and pd.notna(r["n_clusters"])
            n = f" N = {_int(r['n_obs'], 'vi')}, {_int(r['n_clusters'], 'vi')} cụm." if has_n else ""
            m = f" N = {_int(r['n_obs'], 'en')}, {_int(r['n_clusters'], 'en')} clusters." if has_n else ""
            if r["status"] == NOT_ESTIMABLE:
                vi.append(f"{r['level']}, {r['model']}: chưa ước lượng được xu hướng ({r['reason_vi']}).")
                en.append(f"{r['level']}, {r['model']}: the trend cannot be estimated ({r['reason_en']}).")
                continue
            vi.append(f"{r['level']}, {r['model']}: {_num(r['estimate_pp_per_year'], 'vi', 2)} điểm %/năm "
                      f"(KTC 95 % {_num(r['ci_low'], 'vi', 2)} đến {_num(r['ci_high'], 'vi', 2)}).{n}")
            en.append(f"{r['level']}, {r['model']}: {_num(r['estimate_pp_per_year'], 'en', 2)} pp per year "
                      f"(95 % CI {_num(r['ci_low'], 'en', 2)} to {_num(r['ci_high'], 'en', 2)}).{m}")
        return _make("trend", df, notebook=notebook, min_cell=1, synthetic=synthetic, extra_vi=vi, extra_en=en,
                     notes_vi=notes_vi, notes_en=notes_en)
    items: list[tuple[str, str, Any, pd.Series]] = []
    for key, res in results_by_level_model.items():
        if isinstance(key, tuple):
            level, model = key
            tidy = _resolve(res, "simple", f"trend {level}/{model}")[0]
            t = model if (term is None and tidy is not None and "term" in tidy.columns
                          and (tidy["term"].astype(str) == str(model)).any()) else term
            row, src = _pp_row(res, t, f"trend {level}/{model}")
            items.append((str(level), str(model), src, row))
        else:
            tidy = res.to_frame(pp=True)
            for _, r in tidy.iterrows():
                items.append((str(key), str(r["term"]), res, r))
    for level, model, res, row in sorted(items, key=lambda x: (x[0], x[1])):
        info = _info(res)
        rows.append({"level": level, "model": model, "estimate_pp_per_year": float(row["estimate_pp"]),
                     "std_error": float(row["std_error"]), "ci_low": float(row["ci_low"]),
                     "ci_high": float(row["ci_high"]), "p_value": float(row["p_value"]),
                     "n_obs": info.get("n_obs", np.nan), "n_clusters": info.get("n_clusters", np.nan)})
        est = getattr(res, "estimand", "") or ""
        method = "; ".join(x for x in (getattr(res, "cov_type", ""),) if x)
        yrs = info.get("years", "")
        vi.append(f"{level}, {model}: {_num(row['estimate_pp'], 'vi', 2)} điểm %/năm (KTC 95 % {_num(row['ci_low'], 'vi', 2)} "
                  f"đến {_num(row['ci_high'], 'vi', 2)}); đại lượng: {est or 'thay đổi tỷ lệ mỗi năm'}; sai số: {method or '-'}; "
                  f"N = {_fact(info, 'n_obs', 'vi')} quan sát trường × năm, {_fact(info, 'n_clusters', 'vi')} cụm (trường)"
                  + (f"; các năm {yrs}" if yrs else "") + ".")
        en.append(f"{level}, {model}: {_num(row['estimate_pp'], 'en', 2)} pp per year (95 % CI {_num(row['ci_low'], 'en', 2)} "
                  f"to {_num(row['ci_high'], 'en', 2)}); estimand: {est or 'change of the rate per year'}; errors: {method or '-'}; "
                  f"N = {_fact(info, 'n_obs', 'en')} school-years, {_fact(info, 'n_clusters', 'en')} clusters (schools)"
                  + (f"; years {yrs}" if yrs else "") + ".")
        for n in getattr(res, "notes", ()) or ():
            if str(n) not in en:
                en.append(str(n))
    df = _trend_recommended(pd.DataFrame(rows).dropna(axis=1, how="all"))
    return _make("trend", df, notebook=notebook, min_cell=1, synthetic=synthetic, extra_vi=vi, extra_en=en,
                 notes_vi=notes_vi, notes_en=notes_en)


def _trend_recommended(df: pd.DataFrame) -> pd.DataFrame:
    """``recommended`` (exactly one row per level) and ``status``/``reason_vi``/``reason_en`` of the trend table.

    Kept when the frame has them (``TrendResults.trend_frame()``); otherwise the row of the recommended model
    (``trends.RECOMMENDED_TREND_MODEL``, the annual-rate regression) is recommended, or a level's only row;
    a level with several rows and none of the recommended model is an error (the review would otherwise
    cite a school-clustered interval that leaves out the year shocks).
    """
    from ...trends import RECOMMENDED_TREND_MODEL

    if "recommended" not in df.columns:
        rec = df["model"].astype(str) == RECOMMENDED_TREND_MODEL
        for level, g in df.groupby(df["level"].astype(str)):
            if not rec[g.index].any():
                if len(g) != 1:
                    raise EvidenceError(f"trend: level {level} has no {RECOMMENDED_TREND_MODEL!r} row (the model the "
                                        f"review reports) among {', '.join(g['model'].astype(str))}")
                rec[g.index] = True
        df["recommended"] = rec.to_numpy()
    if "status" not in df.columns:
        ok = np.isfinite(df[["estimate_pp_per_year", "ci_low", "ci_high"]].astype(float)).all(axis=1)
        df["status"] = np.where(ok, "ok", "not_estimable")
        df["reason_vi"] = np.where(ok, "", "không ước lượng được xu hướng")
        df["reason_en"] = np.where(ok, "", "the trend cannot be estimated")
    df["recommended"] = df["recommended"].astype(bool)
    return df


def _fact(info: Mapping[str, Any], key: str, lang: str) -> str:
    v = info.get(key)
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "?"
    return _int(float(v), lang) if isinstance(v, (int, float, np.integer, np.floating)) else str(v)


def _as_estimator_name(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, Mapping) and "estimator" in v:
        return str(v["estimator"])
    if hasattr(v, "estimator"):
        return str(v.estimator)
    raise EvidenceError(f"recommended: expected an estimator name per level, got {v!r}")


def _reason(v: Any, lang: str) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, Mapping):
        return str(v.get(lang) or v.get(f"reason_{lang}") or v.get("reason") or v.get("en") or "")
    for attr in (f"reason_{lang}", "reason"):
        if getattr(v, attr, None):
            return str(getattr(v, attr))
    return str(v)


def effect_overall_table(results: Sequence[tuple[str, str, Any, int, int]], recommended: Mapping[str, Any],
                         reasons: Mapping[str, Any] | None = None, *, term: str | Mapping[str, str] | None = None,
                         pretrend: Mapping[str, Any] | None = None,
                         wild_bootstrap: Mapping[tuple[str, str], Any] | None = None, notebook: str = "",
                         synthetic: bool = False, notes_vi: Iterable[str] = (),
                         notes_en: Iterable[str] = (), mde_pp: Mapping[str, float] | None = None) -> EvidenceTable:
    """``effect_overall``: one row per (level, estimator), effects in percentage points.

    ``results``: ``(level, estimator, results, n_units, n_obs)`` tuples. ``results`` is a
    results object (``to_frame(pp=True)``; ``term`` picks the row, per estimator when a
    mapping), a staggered-adoption results object (its ``aggregate("simple")``), an aggregation
    (its ``overall``), or a frame/Series/mapping with ``estimate_pp, std_error, ci_low, ci_high,
    p_value``. ``recommended`` maps each level to the estimator the review reports (a name, or
    an object with ``.estimator`` such as ``effects.recommend``'s ``Recommendation``);
    ``reasons`` maps level to the reason (a string, ``{"vi": .., "en": ..}`` or an object with
    ``reason_vi``/``reason_en``; default: the recommendation's own reason). ``pretrend`` maps
    level to the joint pre-trend ``TestResult`` of the event study; tests carried by the results
    themselves are reported too. ``wild_bootstrap`` maps ``(level, estimator)`` to a
    wild-cluster-bootstrap result in percentage points (a frame such as
    ``TwfeResults.wild_bootstrap(pp=True)``, its first row or the row of ``term``), giving the
    extra columns ``wild_ci_low, wild_ci_high, wild_p_value``: the few-cluster interval beside
    the analytic one. Extra columns: ``n_clusters``, ``comparison_group``, ``method``,
    ``estimand`` when known, and ``status``, ``reason_vi``, ``reason_en`` (``evaluation.status``:
    a result given as a :class:`~evaluation.status.NotEstimable` is a ``not_estimable`` row with its
    reason; an interval half-width above ``max(mde_pp[level], 10)`` pp is ``not_informative``). A
    level whose recommendation is ``"none"`` (no coverage, no comparison) reports its
    ``callaway_santanna`` row, not estimable, with the recommendation's reason.
    """
    rows, vi, en = [], [], []
    # "none" (no coverage, no comparison): the review's design-robust estimator carries the reason, not estimable
    rec = {str(k): (NONE_REPORTS_AS if _as_estimator_name(v) == "none" else _as_estimator_name(v))
           for k, v in recommended.items()}
    mde_pp = dict(mde_pp or {})
    reasons = dict(reasons or {})
    for k, v in recommended.items():
        if str(k) not in reasons and not isinstance(v, str):
            reasons[str(k)] = v
    pretrend = dict(pretrend or {})
    for level, estimator, res, n_units, n_obs in results:
        if isinstance(res, NotEstimable):
            rows.append({"level": level, "estimator": estimator, "estimate_pp": np.nan, "std_error": np.nan,
                         "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan, "n_units": n_units, "n_obs": n_obs,
                         "recommended": rec.get(str(level)) == estimator, "n_clusters": np.nan, "comparison_group": "",
                         "method": "", "estimand": "", "status": NOT_ESTIMABLE, "reason_vi": res.reason_vi,
                         "reason_en": res.reason_en})
            vi.append(f"{level}, {estimator}: chưa ước lượng được tác động ({res.reason_vi}).")
            en.append(f"{level}, {estimator}: the effect cannot be estimated ({res.reason_en}).")
            continue
        t = term.get(estimator) if isinstance(term, Mapping) else term
        row, src = _pp_row(res, t, f"effect_overall {level}/{estimator}")
        info = dict(_info(src)) or dict(_info(res))
        if isinstance(src, (pd.DataFrame, pd.Series, Mapping)):
            info.update({k: row[k] for k in ("n_clusters", "comparison_group", "method", "estimand") if k in row.index})
        comp = info.get("comparison_group", info.get("control_group", info.get("control")))
        method = info.get("method") or getattr(src, "cov_type", "") or ""
        estimand = info.get("estimand") or getattr(src, "estimand", "") or ""
        rows.append({"level": level, "estimator": estimator, "estimate_pp": float(row["estimate_pp"]),
                     "std_error": float(row["std_error"]), "ci_low": float(row["ci_low"]),
                     "ci_high": float(row["ci_high"]),
                     "p_value": float(row["p_value"]) if "p_value" in row.index else np.nan,
                     "n_units": n_units, "n_obs": n_obs, "recommended": rec.get(str(level)) == estimator,
                     "n_clusters": info.get("n_clusters", np.nan), "comparison_group": comp or "",
                     "method": str(method), "estimand": str(estimand)})
        facts_vi = [f"{level}, {estimator}: ước lượng {_num(row['estimate_pp'], 'vi')} điểm % "
                    f"(KTC 95 % {_num(row['ci_low'], 'vi')} đến {_num(row['ci_high'], 'vi')})"]
        facts_en = [f"{level}, {estimator}: estimate {_num(row['estimate_pp'], 'en')} pp "
                    f"(95 % CI {_num(row['ci_low'], 'en')} to {_num(row['ci_high'], 'en')})"]
        if estimand:
            facts_vi.append(f"đại lượng ước lượng: {estimand}")
            facts_en.append(f"estimand: {estimand}")
        if method:
            facts_vi.append(f"sai số: {method}")
            facts_en.append(f"errors: {method}")
        clusters = _fact(info, "n_clusters", "vi")
        facts_vi.append(f"N = {_int(n_obs, 'vi')} quan sát trường × năm, {_int(n_units, 'vi')} trường"
                        + (f", {clusters} cụm" if clusters != "?" else ""))
        facts_en.append(f"N = {_int(n_obs, 'en')} school-years, {_int(n_units, 'en')} schools"
                        + (f", {_fact(info, 'n_clusters', 'en')} clusters" if clusters != "?" else ""))
        if comp:
            facts_vi.append(f"nhóm đối chứng: {_comparison_label(comp, 'vi')}")
            facts_en.append(f"comparison group: {_comparison_label(comp, 'en')}")
        boot = (wild_bootstrap or {}).get((str(level), str(estimator)))
        if boot is not None and len(boot):  # an empty frame: bootstrap_reps = 0, no bootstrap
            b = boot
            if isinstance(b, pd.DataFrame):
                b = b[b["term"] == t].iloc[0] if (t is not None and "term" in b.columns and (b["term"] == t).any()) else b.iloc[0]
            reps = f", {int(b['reps'])} lần lặp" if "reps" in b else ""
            reps_en = f", {int(b['reps'])} replications" if "reps" in b else ""
            lo, hi = float(b["ci_low"]), float(b["ci_high"])
            if np.isfinite(lo) and np.isfinite(hi) and -100 <= lo <= hi <= 100:
                rows[-1].update(wild_ci_low=lo, wild_ci_high=hi, wild_p_value=float(b["p_value"]))
                facts_vi.append(f"bootstrap hoang dã theo cụm (ít cụm){reps}: KTC 95 % {_num(lo, 'vi')} đến "
                                f"{_num(hi, 'vi')}, p = {_p(b['p_value'], 'vi')}")
                facts_en.append(f"wild cluster bootstrap (few clusters){reps_en}: 95 % CI {_num(lo, 'en')} to "
                                f"{_num(hi, 'en')}, p = {_p(b['p_value'], 'en')}")
            else:  # with very few schools the bootstrap cannot bound the effect within the possible range
                rows[-1].update(wild_p_value=float(b["p_value"]))
                facts_vi.append(f"bootstrap hoang dã theo cụm{reps}: khoảng tin cậy rộng hơn mọi giá trị có thể "
                                f"(quá ít trường để kết luận), p = {_p(b['p_value'], 'vi')}")
                facts_en.append(f"wild cluster bootstrap{reps_en}: the interval is wider than any possible effect "
                                f"(too few schools to conclude), p = {_p(b['p_value'], 'en')}")
        own = _find_pretrend(src) or (None if src is res else _find_pretrend(res))
        if own is not None:
            facts_vi.append(f"kiểm định xu hướng trước của phương pháp này: {_test_text(own, 'vi')}")
            facts_en.append(f"this estimator's pre-trend test: {_test_text(own, 'en')}")
        vi.append("; ".join(facts_vi) + ".")
        en.append("; ".join(facts_en) + ".")
    if not rows:
        raise EvidenceError("effect_overall: no results given")
    df = pd.DataFrame(rows)
    for c in ("comparison_group", "method", "estimand"):
        if (df[c] == "").all():
            df = df.drop(columns=c)
    if df["n_clusters"].isna().all():
        df = df.drop(columns="n_clusters")
    parts = []
    for level, g in df.groupby(df["level"].astype(str), sort=False):
        parts.append(add_status(g, estimate="estimate_pp", bound_pp=TABLE_BOUNDS_PP["effect_overall"],
                                mde_pp=mde_pp.get(level)))
    df = pd.concat(parts).sort_index()
    # the design's power (issue 12's rule, chosen by simulation): an ok estimate whose minimum detectable
    # effect, (t_0.975 + t_0.80) x SE with t(G - 1), exceeds a plausible effect is not_informative too
    from ...effects.recommend import effect_status

    for i in np.flatnonzero((df["status"] == "ok").to_numpy()):
        r = df.iloc[i]
        g = r.get("n_clusters", np.nan) if "n_clusters" in df.columns else np.nan
        st = effect_status(r["estimate_pp"], r["std_error"], float(g) - 1 if pd.notna(g) and g > 1 else None)
        if st["status"] != "ok":
            for k in ("status", "reason_vi", "reason_en"):
                df.iat[i, df.columns.get_loc(k)] = st[k]
    df = clip_interval_pp(df)
    for c in ("wild_ci_low", "wild_ci_high", "wild_p_value"):
        if c not in df.columns:
            df[c] = np.nan
    if df[["wild_ci_low", "wild_ci_high", "wild_p_value"]].isna().all().all():
        df = df.drop(columns=["wild_ci_low", "wild_ci_high", "wild_p_value"])
    for level in sorted(df["level"].astype(str).unique()):
        est = rec.get(level)
        if est is None:
            raise EvidenceError(f"effect_overall: no recommended estimator for level {level}")
        if not ((df["level"].astype(str) == level) & (df["estimator"] == est)).any():
            raise EvidenceError(f"effect_overall: the recommended estimator {est!r} for level {level} is not among "
                                f"the results ({', '.join(df.loc[df['level'].astype(str) == level, 'estimator'])})")
        r_vi = _reason(reasons.get(level), "vi").strip().rstrip(".")
        r_en = _reason(reasons.get(level), "en").strip().rstrip(".")
        chosen = (df["level"].astype(str) == level) & (df["estimator"] == est)
        if _as_estimator_name(recommended.get(level, recommended.get(str(level)))) == "none" and r_en:
            # the recommendation's own words say why nothing can be estimated
            df.loc[chosen, ["status", "reason_vi", "reason_en"]] = [NOT_ESTIMABLE, r_vi, r_en]
        vi.append(f"Ước lượng được báo cáo cho {level}: {est}" + (f". Lý do: {r_vi}" if r_vi else "") + ".")
        en.append(f"Reported estimate for {level}: {est}" + (f". Reason: {r_en}" if r_en else "") + ".")
        if level in pretrend and pretrend[level] is not None:
            vi.append(f"Kiểm định đồng thời xu hướng trước (nghiên cứu sự kiện, {level}): {_test_text(pretrend[level], 'vi')}.")
            en.append(f"Joint pre-trend test (event study, {level}): {_test_text(pretrend[level], 'en')}.")
    return _make("effect_overall", df, notebook=notebook, min_cell=1, synthetic=synthetic, extra_vi=vi, extra_en=en,
                 notes_vi=notes_vi, notes_en=notes_en)


def _comparison_label(code: Any, lang: str) -> str:
    m = {"notyet": ("các trường chưa có GV tư vấn (kể cả trường sẽ có sau)", "schools not yet covered (including later-covered ones)"),
         "never": ("các trường chưa từng có GV tư vấn trong giai đoạn", "schools never covered in the period")}
    v = m.get(str(code))
    return (v[0] if lang == "vi" else v[1]) if v else str(code)


_EVENT_RE = re.compile(r"(-?\d+)(?!.*\d)")


def _event_time_of(term: str) -> int:
    m = _EVENT_RE.search(str(term))
    if not m:
        raise EvidenceError(f"event_study: cannot read an event time from term {term!r}; give a frame with an event_time column")
    e = int(m.group(1))
    low = str(term).lower()
    if e > 0 and ("lead" in low or "pre" in low):
        e = -e
    return e


def event_study_table(results: Sequence[tuple], *, reference_period: int | None = -1,
                      pretrend: Mapping[tuple[str, str], Any] | None = None, notebook: str = "",
                      synthetic: bool = False, notes_vi: Iterable[str] = (), notes_en: Iterable[str] = ()) -> EvidenceTable:
    """``event_study``: one row per (level, estimator, event_time), estimates in percentage points.

    ``results``: ``(level, estimator, obj)`` tuples, where ``obj`` is a frame with
    ``event_time, estimate_pp, std_error, ci_low, ci_high``, an object with
    ``aggregate("dynamic")``, or a results object whose ``to_frame(pp=True)`` terms end in the
    event time (``e-2``, ``event_time[-2]``; ``lead2`` reads as -2). When an estimator's output
    lacks ``reference_period`` (the normalised period of a regression event study) a row with
    estimate 0 and empty errors is added and the extra column ``reference_period`` marks it.
    ``pretrend`` maps ``(level, estimator)`` to the joint pre-trend test (else found in the
    results' ``tests``).
    """
    frames, vi, en = [], [], []
    pretrend = dict(pretrend or {})
    for item in results:
        level, estimator, obj = item[0], item[1], item[2]
        if isinstance(obj, NotEstimable):  # one row at event time 0 saying why
            frames.append(pd.DataFrame({"level": [level], "estimator": [estimator], "event_time": [0],
                                        "estimate_pp": [np.nan], "std_error": [np.nan], "ci_low": [np.nan],
                                        "ci_high": [np.nan], "reference_period": [False], "status": [NOT_ESTIMABLE],
                                        "reason_vi": [obj.reason_vi], "reason_en": [obj.reason_en]}))
            vi.append(f"{level}, {estimator}: chưa ước lượng được tác động theo năm ({obj.reason_vi}).")
            en.append(f"{level}, {estimator}: effects by year cannot be estimated ({obj.reason_en}).")
            continue
        f, src = _resolve(obj, "dynamic", f"event_study {level}/{estimator}")
        if "event_time" not in f.columns:
            if "term" not in f.columns:
                raise EvidenceError(f"event_study {level}/{estimator}: the frame has neither event_time nor term")
            f["event_time"] = [_event_time_of(t) for t in f["term"]]
        _require(f, ["estimate_pp", "std_error", "ci_low", "ci_high"], f"event_study {level}/{estimator}")
        ref_flag = (f["reference"].astype("boolean").fillna(False).to_numpy(dtype=bool)
                    if "reference" in f.columns else np.zeros(len(f), dtype=bool))
        f = f.loc[:, ["event_time", "estimate_pp", "std_error", "ci_low", "ci_high"]].copy()
        f["event_time"] = pd.to_numeric(f["event_time"]).astype("int64")
        f["reference_period"] = ref_flag
        for e in f.loc[f["reference_period"], "event_time"]:
            vi.append(f"{level}, {estimator}: năm {int(e)} là kỳ tham chiếu (chuẩn hóa bằng 0).")
            en.append(f"{level}, {estimator}: year {int(e)} is the reference period (normalised to 0).")
        if reference_period is not None and not (f["event_time"] == reference_period).any():
            f = pd.concat([f, pd.DataFrame({"event_time": [reference_period], "estimate_pp": [0.0],
                                            "std_error": [np.nan], "ci_low": [np.nan], "ci_high": [np.nan],
                                            "reference_period": [True]})], ignore_index=True)
            vi.append(f"{level}, {estimator}: năm {reference_period} là kỳ tham chiếu (chuẩn hóa bằng 0).")
            en.append(f"{level}, {estimator}: year {reference_period} is the reference period (normalised to 0).")
        f.insert(0, "estimator", estimator)
        f.insert(0, "level", level)
        frames.append(f)
        t = pretrend.get((str(level), str(estimator)))
        if t is None and not isinstance(obj, pd.DataFrame):
            t = _find_pretrend(src) or _find_pretrend(obj)
        pre = f[(f["event_time"] < 0) & ~f["reference_period"]]
        if t is not None:
            vi.append(f"Kiểm định đồng thời xu hướng trước ({level}, {estimator}; {len(pre)} hệ số trước): {_test_text(t, 'vi')}.")
            en.append(f"Joint pre-trend test ({level}, {estimator}; {len(pre)} pre-period coefficients): {_test_text(t, 'en')}.")
        else:
            nz = int(((pre["ci_low"] > 0) | (pre["ci_high"] < 0)).sum())
            vi.append(f"{level}, {estimator}: {nz}/{len(pre)} hệ số trước có KTC 95 % không chứa 0 (chưa có kiểm định đồng thời).")
            en.append(f"{level}, {estimator}: {nz} of {len(pre)} pre-period coefficients have a 95 % CI excluding 0 "
                      "(no joint test given).")
    df = pd.concat(frames, ignore_index=True)
    df["reference_period"] = df["reference_period"].astype(bool)
    df = clip_interval_pp(add_status(df, estimate="estimate_pp", bound_pp=TABLE_BOUNDS_PP["event_study"],
                                     reference="reference_period"))
    if not df["reference_period"].any():
        df = df.drop(columns="reference_period")
    return _make("event_study", df, notebook=notebook, min_cell=1, synthetic=synthetic, extra_vi=vi, extra_en=en,
                 notes_vi=notes_vi, notes_en=notes_en)



def pretrend_sensitivity_table(frame: pd.DataFrame, *, notebook: str = "", synthetic: bool = False,
                               notes_vi: Iterable[str] = (), notes_en: Iterable[str] = ()) -> EvidenceTable:
    """``pretrend_sensitivity``: ``effects.honest.pretrend_sensitivity_frame`` rows of every level (bounds in pp),
    with the breakdown-Mbar finding of each level in the notes (``effects.honest.sensitivity_sentences``)."""
    from ...effects.honest import sensitivity_sentences

    _require(frame, TABLES["pretrend_sensitivity"].columns, "pretrend_sensitivity")
    f = sensitivity_sentences(frame)
    frame = frame.reset_index(drop=True).copy()
    # bounds beyond +-100 pp (a large M-bar with few schools) say nothing: not_informative, cut to the range
    wide = (((frame["ci_low"].astype(float) < -100) | (frame["ci_high"].astype(float) > 100))
            & (frame["status"].astype(str) == "ok")).to_numpy()
    for i in np.flatnonzero(wide):
        for k, v in status_fields(NOT_INFORMATIVE, "khoảng vượt quá mọi giá trị có thể (±100 điểm %): chưa kết luận được",
                                  "the bounds exceed any possible effect (±100 pp): nothing can be concluded").items():
            frame.iat[i, frame.columns.get_loc(k)] = v
    frame = clip_interval_pp(frame)
    return _make("pretrend_sensitivity", frame, notebook=notebook, min_cell=1,
                 synthetic=synthetic, extra_vi=f["vi"], extra_en=f["en"], notes_vi=notes_vi, notes_en=notes_en)
