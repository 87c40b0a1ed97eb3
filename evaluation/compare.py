"""Compare many evidence bundles: cross-district tables and ranked figures.

Reads only the machine-readable parts of each bundle (``manifest.json``, ``evidence/index.json``
and ``evidence/<id>.csv``, typed with ``evidence.read_table``), never the notebooks or the
report. ``compare_bundles(bundles, out=DIR)`` writes::

    DIR/bundles.csv                 one row per bundle: cycle, district, province, years, the
                                    parameters that change what a number means, code version
    DIR/stacked/<id>.csv            every evidence table of every bundle, stacked, with
                                    cycle, district, province in front
    DIR/uptake_by_district.csv      level x year x cycle: graduates, vocational, rate with its
                                    95 % Wilson interval, unknown_share, target_rate, target
    DIR/coverage_by_district.csv    level x year x cycle: schools, covered, missing, coverage_rate
    DIR/effect_by_district.csv      level x cycle: the recommended estimate of each bundle (pp)
                                    with its 95 % interval, and its rank within the level
    DIR/figures/effect_ranked.png   districts ranked by the recommended effect, with intervals
    DIR/figures/uptake_ranked.png   districts ranked by uptake in their last year, with intervals

Intervals: the effect interval is the bundle's own (the estimator's 95 % interval). The uptake
interval is the Wilson score interval for a binomial proportion with ``graduates`` trials; it
treats graduates as independent, so it is narrower than an interval that allows for clustering
within schools, and it is a sampling interval for a cohort that is in fact a census (read it as
the uncertainty of the underlying propensity). Coverage counts every school: no interval.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .indicators import wilson_interval
from .evidence import EVIDENCE_DIR, INDEX_NAME, SYNTHETIC_MARKER, read_index, read_table

__all__ = ["CompareError", "Bundle", "find_bundles", "load_bundle", "stack_tables", "wilson_interval",
           "uptake_by_district", "coverage_by_district", "effect_by_district", "effect_ranked_figure",
           "uptake_ranked_figure", "compare_bundles", "since_last_review", "since_last_review_text", "HEADLINE_INDICATORS"]

ID_COLUMNS = ["cycle", "district", "province"]
Z95 = 1.959963984540054


class CompareError(ValueError):
    """A folder that is not an evidence bundle, or bundles that cannot be stacked."""


@dataclass(frozen=True)
class Bundle:
    """One evidence bundle: where it is, its manifest and its evidence tables by id."""

    path: Path
    manifest: dict[str, Any]
    tables: dict[str, pd.DataFrame]

    @property
    def cycle(self) -> str:
        return str(self.manifest.get("cycle") or self.path.name)

    @property
    def parameters(self) -> dict[str, Any]:
        return self.manifest.get("parameters") or {}

    @property
    def district(self) -> str:
        return str(self.parameters.get("district") or self.cycle)

    @property
    def province(self) -> str:
        return str(self.parameters.get("province") or "")


def _is_bundle(p: Path) -> bool:
    return (p / "manifest.json").is_file() and (p / EVIDENCE_DIR / INDEX_NAME).is_file()


def find_bundles(paths: Iterable[str | Path]) -> list[Path]:
    """The bundle folders among ``paths``: a bundle itself, or a folder whose sub-folders are
    bundles (a batch's OUT; ``failed-runs`` and hidden folders are not). Sorted, no repeats."""
    found: dict[Path, None] = {}
    for given in paths:
        p = Path(given).expanduser().resolve()
        if _is_bundle(p):
            found[p] = None
            continue
        if not p.is_dir():
            raise CompareError(f"{given}: no such folder")
        subs = sorted(q for q in p.iterdir() if q.is_dir() and not q.name.startswith(".")
                      and q.name != "failed-runs" and _is_bundle(q))
        if not subs:
            raise CompareError(f"{given}: not an evidence bundle (no manifest.json and evidence/index.json) "
                               "and no bundle in its sub-folders")
        for q in subs:
            found[q] = None
    return list(found)


def load_bundle(path: str | Path) -> Bundle:
    """Read a bundle's manifest and every table of its evidence index (typed)."""
    p = Path(path)
    if not _is_bundle(p):
        raise CompareError(f"{p}: not an evidence bundle (needs manifest.json and evidence/index.json)")
    try:
        manifest = json.loads((p / "manifest.json").read_text(encoding="utf-8"))
    except ValueError as exc:
        raise CompareError(f"{p / 'manifest.json'}: not valid JSON: {exc}") from None
    tables = {e["id"]: read_table(p, e) for e in read_index(p)}
    return Bundle(p, manifest, tables)


def _unique_cycles(bundles: Sequence[Bundle]) -> None:
    seen: dict[str, Path] = {}
    for b in bundles:
        if b.cycle in seen:
            raise CompareError(f"cycle {b.cycle!r} appears twice: {seen[b.cycle]} and {b.path}")
        seen[b.cycle] = b.path


def stack_tables(bundles: Sequence[Bundle]) -> dict[str, pd.DataFrame]:
    """Every evidence table id found in any bundle -> the rows of all bundles, with cycle,
    district and province in front (columns missing in a bundle are empty there)."""
    _unique_cycles(bundles)
    ids = sorted({t for b in bundles for t in b.tables})
    out = {}
    for tid in ids:
        parts = []
        for b in bundles:
            if tid in b.tables:
                df = b.tables[tid].copy()
                df.insert(0, "province", b.province)
                df.insert(0, "district", b.district)
                df.insert(0, "cycle", b.cycle)
                parts.append(df)
        out[tid] = pd.concat(parts, ignore_index=True, sort=False)
    return out


def _need(stacked: dict[str, pd.DataFrame], tid: str) -> pd.DataFrame:
    if tid not in stacked:
        raise CompareError(f"no bundle has the evidence table {tid!r}")
    return stacked[tid]


def uptake_by_district(stacked: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per cycle, level and year: graduates, vocational, rate (fraction of graduates
    with a ``voc_*`` destination, as each bundle measured it), rate_ci_low/rate_ci_high (95 %
    Wilson), unknown_share, target_rate, target, target_met. Suppressed rows keep empty rates."""
    df = _need(stacked, "uptake_by_year")
    cols = [c for c in ["graduates", "vocational", "rate", "unknown_share", "target_rate", "target", "target_met"]
            if c in df.columns]
    out = df[ID_COLUMNS + ["level", "year"] + cols].copy()
    lo, hi = wilson_interval(out["vocational"], out["graduates"])
    hidden = out["rate"].isna()
    out.insert(out.columns.get_loc("rate") + 1, "rate_ci_low", np.where(hidden, np.nan, lo))
    out.insert(out.columns.get_loc("rate") + 2, "rate_ci_high", np.where(hidden, np.nan, hi))
    return out.sort_values(["level", "year", "cycle"], kind="stable").reset_index(drop=True)


def coverage_by_district(stacked: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per cycle, level and year: schools, covered (with a trained counselor), missing
    (no counseling row), coverage_rate (as each bundle defined it), target, target_met."""
    df = _need(stacked, "coverage_by_year")
    cols = [c for c in ["schools", "covered", "missing", "coverage_rate", "target", "target_met"] if c in df.columns]
    return (df[ID_COLUMNS + ["level", "year"] + cols]
            .sort_values(["level", "year", "cycle"], kind="stable").reset_index(drop=True))


def effect_by_district(stacked: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per cycle and level: the effect the bundle recommends (``recommended`` true),
    estimator, estimate_pp, std_error, ci_low, ci_high (95 %, pp), p_value, n_units, n_obs,
    excludes_zero (the interval lies on one side of 0), rank (1 = largest estimate within the
    level; ties share the smaller rank)."""
    df = _need(stacked, "effect_overall")
    rec = df[df["recommended"].fillna(False).astype(bool)]
    cols = ["estimator", "estimate_pp", "std_error", "ci_low", "ci_high", "p_value", "n_units", "n_obs"]
    out = rec[ID_COLUMNS + ["level"] + [c for c in cols if c in rec.columns]].copy()
    out["excludes_zero"] = (out["ci_low"] > 0) | (out["ci_high"] < 0)
    out["rank"] = out.groupby("level")["estimate_pp"].rank(ascending=False, method="min").astype("Int64")
    return out.sort_values(["level", "rank", "cycle"], kind="stable").reset_index(drop=True)


def _labels(frame: pd.DataFrame) -> pd.Series:
    """District names as the label, with the cycle added where a district appears twice."""
    pairs = frame[["cycle", "district"]].drop_duplicates()
    dup = set(pairs["district"][pairs["district"].duplicated(keep=False)])
    return frame.apply(lambda r: f"{r['district']} ({r['cycle']})" if r["district"] in dup else r["district"], axis=1)


_TXT = {
    "effect_title": ("Tác động của tư vấn hướng nghiệp theo huyện (ước lượng khuyến nghị, KTC 95 %)",
                     "Effect of career counseling by district (recommended estimate, 95 % CI)"),
    "uptake_title": ("Tỷ lệ học nghề năm cuối của mỗi chu kỳ, xếp hạng theo huyện (KTC 95 %)",
                     "Vocational uptake in each cycle's last year, districts ranked (95 % CI)"),
    "pp": ("điểm phần trăm", "percentage points"),
    "pct": ("% học sinh tốt nghiệp", "% of graduates"),
    "target": ("chỉ tiêu", "target"),
}


def _t(key: str, lang: str) -> str:
    vi, en = _TXT[key]
    return vi if lang == "vi" else en


def _ranked_panels(frame: pd.DataFrame, *, value: str, lo: str, hi: str, title: str, xlabel: str, lang: str,
                   percent: bool, target: str | None = None):
    from matplotlib.ticker import FuncFormatter

    from .figures import _new_figure, _nfc, _style, _PALETTE

    levels = sorted(frame["level"].astype(str).unique())
    n_rows = max([int((frame["level"] == lv).sum()) for lv in levels] or [1])
    with _style():
        fig, axes = _new_figure(len(levels) or 1, width=5.5, height=max(2.5, 0.28 * n_rows + 1.4), sharey=False)
        for ax, lv in zip(axes, levels):
            d = frame[(frame["level"] == lv) & frame[value].notna()].sort_values(value, kind="stable")
            y = np.arange(len(d))
            color = _PALETTE.get(lv, "#444444")
            ax.errorbar(d[value], y, xerr=[d[value] - d[lo], d[hi] - d[value]], fmt="o", color=color,
                        ecolor=color, elinewidth=1.2, capsize=2.5, markersize=4)
            if target is not None and target in d and d[target].notna().any():
                ax.scatter(d[target], y, marker="|", s=120, color="#2a9d8f", label=_t("target", lang), zorder=3)
                ax.legend(loc="lower right", fontsize=8, frameon=False)
            if not percent:
                ax.axvline(0, color="#888888", linewidth=0.8)
            ax.set_yticks(y, [_nfc(s) for s in d["label"]])
            ax.set_title(lv)
            ax.set_xlabel(xlabel)
            fmt = (lambda v, _p: f"{v * 100:.0f} %") if percent else (lambda v, _p: f"{v:g}".replace("-", "\u2212"))
            ax.xaxis.set_major_formatter(FuncFormatter(fmt))
        fig.suptitle(_nfc(title))
    return fig


def effect_ranked_figure(effects: pd.DataFrame, *, lang: str = "en"):
    """Districts ranked by the recommended effect (pp) with 95 % intervals, a panel per level."""
    f = effects.assign(label=_labels(effects))
    return _ranked_panels(f, value="estimate_pp", lo="ci_low", hi="ci_high", title=_t("effect_title", lang),
                          xlabel=_t("pp", lang), lang=lang, percent=False)


def uptake_ranked_figure(uptake: pd.DataFrame, *, lang: str = "en"):
    """Districts ranked by uptake in the last year of their cycle, with 95 % Wilson intervals
    and the target in force (where there is one), a panel per level."""
    last = uptake[uptake["year"] == uptake.groupby(["cycle", "level"])["year"].transform("max")]
    f = last.assign(label=_labels(last))
    return _ranked_panels(f, value="rate", lo="rate_ci_low", hi="rate_ci_high", title=_t("uptake_title", lang),
                          xlabel=_t("pct", lang), lang=lang, percent=True, target="target")


def _bundle_row(b: Bundle) -> dict[str, Any]:
    p = b.parameters
    cv = b.manifest.get("code_version") or {}
    return {"cycle": b.cycle, "district": b.district, "province": b.province,
            "year_start": p.get("year_start"), "year_end": p.get("year_end"),
            "unknown_in_denominator": p.get("unknown_in_denominator"), "min_cell": p.get("min_cell"),
            "geography": p.get("geography"), "control_group": p.get("control_group"),
            "synthetic": (b.path / SYNTHETIC_MARKER).is_file() or (b.path / EVIDENCE_DIR / SYNTHETIC_MARKER).is_file(),
            "finished": b.manifest.get("finished"), "git_commit": cv.get("git_commit"),
            "tables": len(b.tables), "bundle": str(b.path)}


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    """UTF-8 CSV; booleans as ``true``/``false`` like the bundles' own tables, missing as empty."""
    path.parent.mkdir(parents=True, exist_ok=True)
    df = df.copy()
    for c in df.columns:
        if pd.api.types.is_bool_dtype(df[c]) or (df[c].dtype == object and df[c].dropna().map(type).eq(bool).all()
                                                 and df[c].notna().any()):
            df[c] = df[c].map({True: "true", False: "false"})
    df.to_csv(path, index=False, lineterminator="\n", encoding="utf-8", float_format="%.10g")


def compare_bundles(bundles: Iterable[str | Path], *, out: str | Path, lang: str = "en") -> Path:
    """Write the cross-district tables and ranked figures of ``bundles`` (bundle folders or
    folders of bundles) into ``out``; return ``out``. See the module docstring for the files."""
    from .figures import save_figure

    paths = find_bundles(bundles)
    loaded = [load_bundle(p) for p in paths]
    stacked = stack_tables(loaded)
    out = Path(out).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    _write_csv(pd.DataFrame([_bundle_row(b) for b in loaded]), out / "bundles.csv")
    for tid, df in stacked.items():
        _write_csv(df, out / "stacked" / f"{tid}.csv")
    if "uptake_by_year" in stacked:
        up = uptake_by_district(stacked)
        _write_csv(up, out / "uptake_by_district.csv")
        save_figure(uptake_ranked_figure(up, lang=lang), out, "uptake_ranked")
    if "coverage_by_year" in stacked:
        _write_csv(coverage_by_district(stacked), out / "coverage_by_district.csv")
    if "effect_overall" in stacked:
        eff = effect_by_district(stacked)
        _write_csv(eff, out / "effect_by_district.csv")
        save_figure(effect_ranked_figure(eff, lang=lang), out, "effect_ranked")
    return out


# ---------------------------------------------------------------------------------------
# "Since the last review": one district across cycles
# ---------------------------------------------------------------------------------------
#: (indicator code, unit, Vietnamese label, English label) of the headline indicators.
HEADLINE_INDICATORS: tuple[tuple[str, str, str, str], ...] = (
    ("uptake_rate", "rate", "Tỷ lệ học nghề (mọi trình độ), năm cuối", "Vocational uptake (any level), last year"),
    ("uptake_target_rate", "rate", "Tỷ lệ học nghề theo định nghĩa chỉ tiêu, năm cuối",
     "Uptake as the target counts it, last year"),
    ("unknown_share", "rate", "Tỷ lệ không rõ hướng đi, năm cuối", "Share with unknown destination, last year"),
    ("communes_meeting_target", "count", "Số xã đạt chỉ tiêu, năm cuối", "Communes meeting the target, last year"),
    ("coverage_rate", "rate", "Tỷ lệ trường có GV tư vấn đã qua đào tạo, năm cuối",
     "Schools with a trained counselor, last year"),
    ("trend_pp_per_year", "pp", "Xu hướng (điểm % mỗi năm)", "Trend (pp per year)"),
    ("effect_pp", "pp", "Tác động của GV tư vấn (ước lượng được báo cáo)", "Effect of counselors (reported estimate)"),
    ("gap_khmer_pp", "pp", "Chênh lệch Khmer so với Kinh (cùng trường, năm)", "Khmer–Kinh gap (same school and year)"),
    ("gap_female_pp", "pp", "Chênh lệch nữ so với nam (cùng trường, năm)", "Female–male gap (same school and year)"),
)


def _last_year_value(df: pd.DataFrame, level: str, col: str) -> tuple[float, int | None]:
    g = df[(df["level"] == level)].dropna(subset=[col]) if col in df.columns else df.iloc[0:0]
    if g.empty:
        return np.nan, None
    r = g.sort_values("year").iloc[-1]
    return float(r[col]), int(r["year"])


def _headline_values(b: Bundle, level: str) -> dict[str, tuple[float, int | None, float, float]]:
    """indicator -> (value, year, ci_low, ci_high) of one bundle and level."""
    t = b.tables
    out: dict[str, tuple[float, int | None, float, float]] = {}
    if "uptake_by_year" in t:
        for code, col in (("uptake_rate", "rate"), ("uptake_target_rate", "target_rate"), ("unknown_share", "unknown_share")):
            v, y = _last_year_value(t["uptake_by_year"], level, col)
            out[code] = (v, y, np.nan, np.nan)
    if "uptake_by_commune" in t:
        c = t["uptake_by_commune"]
        c = c[(c["level"] == level)]
        if len(c):
            y = int(c["year"].max())
            met = c.loc[c["year"] == y, "target_met"].astype(str).str.lower().isin(["true", "met", "1"])
            out["communes_meeting_target"] = (float(met.sum()), y, np.nan, np.nan)
    if "coverage_by_year" in t:
        v, y = _last_year_value(t["coverage_by_year"], level, "coverage_rate")
        out["coverage_rate"] = (v, y, np.nan, np.nan)

    def pick(df: pd.DataFrame, value: str, **where: Any) -> tuple[float, int | None, float, float]:
        g = df[df["level"] == level]
        for k, v in where.items():
            if k in g.columns:
                g = g[g[k].astype(str).str.lower() == str(v).lower()]
        if "recommended" in g.columns and g["recommended"].astype(str).str.lower().eq("true").any():
            g = g[g["recommended"].astype(str).str.lower() == "true"]
        if g.empty:
            return (np.nan, None, np.nan, np.nan)
        r = g.iloc[0]
        return (float(r[value]), None, float(r.get("ci_low", np.nan)), float(r.get("ci_high", np.nan)))

    if "trend" in t:
        tr = t["trend"]
        out["trend_pp_per_year"] = pick(tr, "estimate_pp_per_year", **({} if "recommended" in tr.columns
                                                                        else {"model": "glm_binomial"}))
    if "effect_overall" in t:
        out["effect_pp"] = pick(t["effect_overall"], "estimate_pp")
    if "equity_gaps" in t:
        eq = t["equity_gaps"]
        out["gap_khmer_pp"] = pick(eq, "gap_pp", dimension="ethnicity", group="khmer", adjusted="true")
        out["gap_female_pp"] = pick(eq, "gap_pp", dimension="sex", group="F", adjusted="true")
        if np.isnan(out["gap_female_pp"][0]):
            out["gap_female_pp"] = pick(eq, "gap_pp", dimension="sex", group="F")
    return out


def since_last_review(previous: str | Path | Bundle, current: str | Path | Bundle, *,
                      allow_other_district: bool = False) -> pd.DataFrame:
    """The change in every headline indicator of one district between two review cycles (e.g. a
    2018-2022 mid-term bundle and the 2018-2025 one).

    One row per indicator and level: ``indicator``, ``label_vi``, ``label_en``, ``level``,
    ``unit`` (``rate``: fraction 0..1; ``pp``: percentage points; ``count``), the previous and
    the current cycle's ``*_cycle``, ``*_year`` (the last year a rate is measured in; empty for
    estimates over the whole cycle), ``*_value`` and ``*_ci_low``/``*_ci_high`` (estimates
    only), and ``change`` = current − previous in percentage points for rates and estimates
    (a count's change in its own unit). ``intervals_overlap`` says, for estimates, whether the
    two 95 % intervals overlap (if they do, the change may be noise). Raises ``CompareError``
    when the bundles are of different districts (unless ``allow_other_district``) or the same
    cycle.
    """
    prev = previous if isinstance(previous, Bundle) else load_bundle(previous)
    cur = current if isinstance(current, Bundle) else load_bundle(current)
    if prev.cycle == cur.cycle and prev.path == cur.path:
        raise CompareError(f"{cur.path}: the same bundle twice; give the previous and the current review")
    if prev.district != cur.district and not allow_other_district:
        raise CompareError(f"{prev.path} is of {prev.district!r} and {cur.path} of {cur.district!r}: "
                           "'since the last review' compares one district (allow_other_district=True to force)")
    levels = sorted({str(v) for b in (prev, cur) for tbl in b.tables.values() if "level" in tbl.columns
                     for v in tbl["level"].dropna().unique() if str(v) in ("THCS", "THPT")})
    rows = []
    for level in levels:
        a, b = _headline_values(prev, level), _headline_values(cur, level)
        for code, unit, vi, en in HEADLINE_INDICATORS:
            if code not in a and code not in b:
                continue
            pv, py, pl, ph = a.get(code, (np.nan, None, np.nan, np.nan))
            cv, cy, cl, ch = b.get(code, (np.nan, None, np.nan, np.nan))
            change = (cv - pv) * (100.0 if unit == "rate" else 1.0)
            overlap = (np.nan if any(np.isnan(x) for x in (pl, ph, cl, ch)) else bool(pl <= ch and cl <= ph))
            rows.append({"indicator": code, "label_vi": vi, "label_en": en, "level": level, "unit": unit,
                         "previous_cycle": prev.cycle, "previous_year": py, "previous_value": pv,
                         "previous_ci_low": pl, "previous_ci_high": ph,
                         "current_cycle": cur.cycle, "current_year": cy, "current_value": cv,
                         "current_ci_low": cl, "current_ci_high": ch,
                         "change": change, "change_unit": "count" if unit == "count" else "pp",
                         "intervals_overlap": overlap})
    return pd.DataFrame(rows)


def since_last_review_text(frame: pd.DataFrame, lang: str = "vi") -> list[str]:
    """One sentence per row of :func:`since_last_review`, in ``lang`` (for the report and notebooks)."""
    from . import i18n

    out = []
    for r in frame.to_dict("records"):
        if np.isnan(r["previous_value"]) or np.isnan(r["current_value"]):
            continue
        fmt = {"rate": lambda v: i18n.pct(v, lang), "pp": lambda v: i18n.pp(v, lang),
               "count": lambda v: i18n.integer(v, lang)}[r["unit"]]
        ch = i18n.integer(r["change"], lang) if r["unit"] == "count" else i18n.pp(r["change"], lang, signed=True)
        label = r[f"label_{lang}"]
        if lang == "vi":
            s = f"{label} ({r['level']}): {fmt(r['previous_value'])} ở kỳ trước, {fmt(r['current_value'])} ở kỳ này ({ch})"
            if r["intervals_overlap"] is True:
                s += "; hai khoảng tin cậy chồng nhau nên thay đổi chưa rõ ràng"
        else:
            s = f"{label} ({r['level']}): {fmt(r['previous_value'])} at the last review, {fmt(r['current_value'])} now ({ch})"
            if r["intervals_overlap"] is True:
                s += "; the two intervals overlap, so the change may be noise"
        out.append(s + ".")
    return out
