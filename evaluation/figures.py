"""Figures of the review (matplotlib Agg canvas, seaborn styling), in Vietnamese or English.

Each function takes an evidence frame with the output contract's columns and returns a
``matplotlib.figure.Figure`` (made without pyplot, so nothing is left open and it displays in
JupyterLab). Text is set in DejaVu Sans, which ships with matplotlib and covers every
Vietnamese letter; all text is normalised to Unicode NFC first (a decomposed "ờ" would
otherwise be drawn as a letter plus a floating mark). ``save_figure`` writes
``figures/<name>.png`` at a fixed dpi with no timestamp or software tag, so the same figure
gives the same bytes; the figure's title is stored in the PNG's ``Title`` text chunk, where the
report reads its caption.

Rates are drawn as percentages of graduates (fractions 0..1 in the data); effects and gaps in
percentage points with their 95 % intervals.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from . import i18n
from .evidence import column_info, value_label
from .reference import label

__all__ = ["FONT", "DPI", "uptake_vs_target", "communes_vs_target", "coverage_over_time", "event_study_plot",
           "equity_gaps_plot", "save_figure", "figure_title", "text"]

FONT = "DejaVu Sans"
DPI = 150
_PALETTE = {"THCS": "#1b6ca8", "THPT": "#d1495b"}
_TARGET_COLOR = "#2a9d8f"

def text(key: str, lang: str) -> str:
    """A fixed piece of figure text in ``lang`` (``vi`` or ``en``)."""
    return _nfc(i18n.text("fig_" + key, lang))  # every label lives in evaluation.i18n


def _nfc(s: object) -> str:
    return unicodedata.normalize("NFC", str(s))


def _col(column: str, lang: str) -> str:
    return _nfc(column_info(column)[f"label_{lang}"])


def _check_lang(lang: str) -> None:
    if lang not in ("vi", "en"):
        raise ValueError(f"lang: expected 'vi' or 'en', got {lang!r}")


def _need(frame: pd.DataFrame, cols: Iterable[str], what: str) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise ValueError(f"{what}: the frame lacks column(s) {', '.join(missing)}")


@contextmanager
def _style():
    with sns.axes_style("whitegrid"), rc_context({"font.family": FONT, "font.size": 10, "axes.titlesize": 11,
                                                   "figure.titlesize": 12, "svg.hashsalt": "evaluation"}):
        yield


def _new_figure(n_panels: int, *, width: float = 5.0, height: float = 4.0, sharey: bool = True):
    fig = Figure(figsize=(max(1, n_panels) * width, height), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, max(1, n_panels), sharey=sharey, squeeze=False)[0]
    return fig, list(axes)


def _percent_axis(ax, axis: str, lang: str) -> None:
    def fmt(v, _pos):
        s = f"{v * 100:.0f}"
        return f"{s} %"
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(FuncFormatter(fmt))


def _pp_axis(ax, axis: str, lang: str) -> None:
    def fmt(v, _pos):
        return i18n._dec(f"{v:g}", lang).replace("-", "\u2212")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(FuncFormatter(fmt))


def _levels(frame: pd.DataFrame) -> list[str]:
    return sorted(frame["level"].astype(str).unique()) if len(frame) else []


def _title(fig: Figure, title: str) -> None:
    fig.suptitle(_nfc(title))


def figure_title(fig: Figure) -> str:
    """The figure's title (its suptitle), used as the caption in the report."""
    st = fig.get_suptitle() if hasattr(fig, "get_suptitle") else ""
    return st or ""


def _empty(fig: Figure, axes, lang: str) -> None:
    for ax in axes:
        ax.text(0.5, 0.5, text("no_data", lang), ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()


def _step_target(ax, years: np.ndarray, target: np.ndarray, *, label_text: str | None, color: str = _TARGET_COLOR) -> None:
    """Draw a target that changes by period as a dashed step line (gaps where none applies)."""
    if not np.isfinite(target).any():
        return
    x = np.concatenate([[years[0] - 0.5], (years[:-1] + years[1:]) / 2, [years[-1] + 0.5]]) if len(years) > 1 \
        else np.array([years[0] - 0.5, years[0] + 0.5])
    ax.stairs(target, x, color=color, linestyle="--", linewidth=1.6, label=label_text, baseline=None)


def uptake_vs_target(frame: pd.DataFrame, lang: str = "vi") -> Figure:
    """Uptake (``rate``) and the rate as the target defines it (``target_rate``) by year, one
    panel per level, with the target in force as a dashed step line. Input: ``uptake_by_year``."""
    _check_lang(lang)
    _need(frame, ("level", "year", "rate", "target_rate", "target"), "uptake_vs_target")
    levels = _levels(frame)
    with _style():
        fig, axes = _new_figure(len(levels))
        _title(fig, text("uptake_title", lang))
        if not levels:
            _empty(fig, axes, lang)
            return fig
        for ax, lvl in zip(axes, levels):
            d = frame[frame["level"].astype(str) == lvl].sort_values("year")
            years = d["year"].to_numpy(dtype=float)
            color = _PALETTE.get(lvl, "#444444")
            ax.plot(years, d["rate"].to_numpy(dtype=float), marker="o", color=color, label=_col("rate", lang))
            if not np.allclose(d["rate"].to_numpy(dtype=float), d["target_rate"].to_numpy(dtype=float), equal_nan=True):
                ax.plot(years, d["target_rate"].to_numpy(dtype=float), marker="s", linestyle=":", color=color,
                        alpha=0.8, label=_col("target_rate", lang))
            _step_target(ax, years, pd.to_numeric(d["target"], errors="coerce").to_numpy(dtype=float),
                         label_text=_col("target", lang))
            ax.set_title(_nfc(label("level", lvl, lang)))
            ax.set_xlabel(_col("year", lang))
            ax.set_ylabel(text("pct_graduates", lang))
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_ylim(0, max(0.5, float(np.nanmax(d[["rate", "target_rate"]].to_numpy(dtype=float), initial=0)) * 1.15,
                               float(np.nanmax(pd.to_numeric(d["target"], errors="coerce").to_numpy(dtype=float), initial=0)) * 1.15))
            _percent_axis(ax, "y", lang)
            ax.legend(loc="upper left", fontsize=8, frameon=True)
    return fig


def communes_vs_target(frame: pd.DataFrame, lang: str = "vi", year: int | None = None) -> Figure:
    """Communes ranked by the rate as the target defines it in ``year`` (default: the latest),
    one panel per level; bars coloured by whether the target is met, the target as a dashed
    line, suppressed communes listed without a bar. Input: ``uptake_by_commune``."""
    _check_lang(lang)
    _need(frame, ("level", "year", "commune_name", "target_rate", "target", "target_met", "suppressed"), "communes_vs_target")
    if year is None:
        year = int(frame["year"].max()) if len(frame) else 0
    d_year = frame[frame["year"] == year]
    levels = _levels(d_year)
    n_rows = max([int((d_year["level"].astype(str) == lvl).sum()) for lvl in levels] or [1])
    with _style():
        fig, axes = _new_figure(len(levels), width=5.5, height=max(3.0, 0.32 * n_rows + 1.6), sharey=False)
        _title(fig, text("communes_title", lang).format(year=year))
        if not levels:
            _empty(fig, axes, lang)
            return fig
        colors = {"met": "#2a9d8f", "not_met": "#e76f51", "none": "#8d99ae"}
        for ax, lvl in zip(axes, levels):
            d = d_year[d_year["level"].astype(str) == lvl].copy()
            d["_supp"] = d["suppressed"].astype("boolean").fillna(False).astype(bool)
            d["_v"] = pd.to_numeric(d["target_rate"], errors="coerce")
            d = d.sort_values(["_supp", "_v", "commune_name"], ascending=[True, True, True], na_position="first",
                              kind="mergesort")
            names = [_nfc(n) + (" " + text("suppressed", lang) if s else "") for n, s in zip(d["commune_name"], d["_supp"])]
            y = np.arange(len(d))
            met = d["target_met"].astype("string")
            cols = [colors["none"] if pd.isna(m) else colors.get(str(m), colors["none"]) for m in met]
            vals = d["_v"].fillna(0).to_numpy(dtype=float)
            ax.barh(y, vals, color=cols)
            ax.set_yticks(y, names, fontsize=8)
            tgt = pd.to_numeric(d["target"], errors="coerce").dropna().unique()
            for i, t in enumerate(sorted(tgt)):
                ax.axvline(t, color="#264653", linestyle="--", linewidth=1.4,
                           label=_col("target", lang) if i == 0 else None)
            ax.set_title(_nfc(label("level", lvl, lang)))
            ax.set_xlabel(_col("target_rate", lang))
            ax.set_xlim(0, max(0.5, float(np.nanmax(vals, initial=0)) * 1.15, float(max(tgt, default=0)) * 1.15))
            _percent_axis(ax, "x", lang)
            from matplotlib.patches import Patch
            handles = [Patch(color=colors["met"], label=text("met", lang)),
                       Patch(color=colors["not_met"], label=text("not_met", lang))]
            if met.isna().any():
                handles.append(Patch(color=colors["none"], label=text("no_target", lang)))
            h, _ = ax.get_legend_handles_labels()
            ax.legend(handles=handles + h, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize=8,
                      frameon=False)
    return fig


def coverage_over_time(frame: pd.DataFrame, lang: str = "vi") -> Figure:
    """Share of schools with a trained counselor (``coverage_rate``) by year and level, with the
    target as a dashed step line. Input: ``coverage_by_year``."""
    _check_lang(lang)
    _need(frame, ("level", "year", "coverage_rate", "target"), "coverage_over_time")
    levels = _levels(frame)
    with _style():
        fig, axes = _new_figure(1, width=6.5, height=4.0)
        ax = axes[0]
        _title(fig, text("coverage_title", lang))
        if not levels:
            _empty(fig, axes, lang)
            return fig
        for lvl in levels:
            d = frame[frame["level"].astype(str) == lvl].sort_values("year")
            years = d["year"].to_numpy(dtype=float)
            color = _PALETTE.get(lvl, "#444444")
            ax.plot(years, d["coverage_rate"].to_numpy(dtype=float), marker="o", color=color, label=_nfc(lvl))
            _step_target(ax, years, pd.to_numeric(d["target"], errors="coerce").to_numpy(dtype=float),
                         label_text=f"{_col('target', lang)} {lvl}", color=color)
        ax.set_xlabel(_col("year", lang))
        ax.set_ylabel(text("pct_schools", lang))
        ax.set_ylim(0, 1.05)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        _percent_axis(ax, "y", lang)
        ax.legend(loc="lower right", fontsize=8, frameon=True)
    return fig


def event_study_plot(frame: pd.DataFrame, lang: str = "vi") -> Figure:
    """Event-study estimates (percentage points) with 95 % intervals by years since the first
    covered year, one panel per level, estimators side by side, a zero line and the reference
    period marked (rows flagged ``reference_period``, else event time -1). Input: ``event_study``."""
    _check_lang(lang)
    _need(frame, ("level", "estimator", "event_time", "estimate_pp", "ci_low", "ci_high"), "event_study_plot")
    levels = _levels(frame)
    with _style():
        fig, axes = _new_figure(len(levels), width=5.5, height=4.2)
        _title(fig, text("event_title", lang))
        if not levels:
            _empty(fig, axes, lang)
            return fig
        estimators = sorted(frame["estimator"].astype(str).unique())
        palette = dict(zip(estimators, sns.color_palette("colorblind", len(estimators))))
        width = 0.6
        for ax, lvl in zip(axes, levels):
            d = frame[frame["level"].astype(str) == lvl]
            if "reference_period" in d.columns and d["reference_period"].astype("boolean").fillna(False).any():
                refs = sorted(set(d.loc[d["reference_period"].astype("boolean").fillna(False).astype(bool), "event_time"].astype(int)))
            else:
                refs = [-1]
            ax.axhline(0, color="black", linewidth=0.9)
            ax.axvline(-0.5, color="grey", linewidth=0.8, linestyle=":")
            for r in refs:
                ax.axvspan(r - 0.45, r + 0.45, color="#f4d35e", alpha=0.35, linewidth=0,
                           label=text("reference_period", lang) if r == refs[0] else None)
            for i, est in enumerate(estimators):
                e = d[d["estimator"].astype(str) == est].sort_values("event_time")
                if e.empty:
                    continue
                off = (i - (len(estimators) - 1) / 2) * width / max(1, len(estimators))
                x = e["event_time"].to_numpy(dtype=float) + off
                yv = e["estimate_pp"].to_numpy(dtype=float)
                lo = e["ci_low"].to_numpy(dtype=float)
                hi = e["ci_high"].to_numpy(dtype=float)
                err = np.clip(np.vstack([np.where(np.isnan(lo), 0, yv - lo), np.where(np.isnan(hi), 0, hi - yv)]), 0, None)
                ax.errorbar(x, yv, yerr=err, fmt="o", color=palette[est], capsize=3, markersize=5,
                            label=_nfc(value_label("estimator", est, lang)))
            ax.set_title(_nfc(label("level", lvl, lang)))
            ax.set_xlabel(_col("event_time", lang))
            ax.set_ylabel(text("pp", lang))
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            _pp_axis(ax, "y", lang)
            ax.legend(loc="upper left", fontsize=8, frameon=True)
    return fig


def _group_label(dimension: str, code: str, lang: str) -> str:
    return _nfc(value_label(dimension, code, lang))


def equity_gaps_plot(frame: pd.DataFrame, lang: str = "vi") -> Figure:
    """Gaps in uptake (percentage points, group minus reference) by dimension and group, one
    panel per level: the raw gap (hollow) and the gap within school and year (``adjusted``,
    filled), each with its 95 % interval, and a zero line. Input: ``equity_gaps``."""
    _check_lang(lang)
    _need(frame, ("level", "dimension", "group", "reference", "gap_pp", "adjusted", "ci_low", "ci_high"), "equity_gaps_plot")
    levels = _levels(frame)
    rows = (frame[["dimension", "group", "reference"]].astype(str).drop_duplicates(["dimension", "group"])
            .sort_values(["dimension", "group"], kind="mergesort").reset_index(drop=True))
    with _style():
        fig, axes = _new_figure(len(levels), width=5.8, height=max(3.0, 0.5 * len(rows) + 1.8))
        _title(fig, text("equity_title", lang))
        if not levels:
            _empty(fig, axes, lang)
            return fig
        names = [f"{_nfc(value_label('group_var', r.dimension, lang))}: {_group_label(r.dimension, r.group, lang)} "
                 f"{text('vs', lang)} {_group_label(r.dimension, r.reference, lang)}" for r in rows.itertuples()]
        pos = {(r.dimension, r.group): i for i, r in enumerate(rows.itertuples())}
        styles = {False: dict(fmt="o", mfc="white", color="#d1495b", offset=-0.15, key="raw"),
                  True: dict(fmt="o", mfc="#1b6ca8", color="#1b6ca8", offset=0.15, key="adjusted")}
        for ax, lvl in zip(axes, levels):
            d = frame[frame["level"].astype(str) == lvl]
            ax.axvline(0, color="black", linewidth=0.9)
            for adj, st in styles.items():
                e = d[d["adjusted"].astype("boolean").fillna(False).astype(bool) == adj]
                if e.empty:
                    continue
                y = np.array([pos[(str(a), str(b))] for a, b in zip(e["dimension"], e["group"])], dtype=float) + st["offset"]
                g = pd.to_numeric(e["gap_pp"], errors="coerce").to_numpy(dtype=float)
                lo = pd.to_numeric(e["ci_low"], errors="coerce").to_numpy(dtype=float)
                hi = pd.to_numeric(e["ci_high"], errors="coerce").to_numpy(dtype=float)
                err = np.clip(np.vstack([np.where(np.isnan(lo), 0, g - lo), np.where(np.isnan(hi), 0, hi - g)]), 0, None)
                ax.errorbar(g, y, xerr=err, fmt=st["fmt"], color=st["color"], mfc=st["mfc"], capsize=3,
                            label=text(st["key"], lang))
            ax.set_yticks(range(len(names)), names, fontsize=8)
            ax.set_ylim(len(names) - 0.5, -0.5)
            ax.set_title(_nfc(label("level", lvl, lang)))
            ax.set_xlabel(text("pp", lang))
            _pp_axis(ax, "x", lang)
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=8, frameon=False)
    return fig


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]*")


def save_figure(fig: Figure, stage_dir: str | Path, name: str, *, dpi: int = DPI, title: str | None = None) -> Path:
    """Write ``figures/<name>.png`` under ``stage_dir`` and return its path.

    Fixed dpi, no ``Software`` tag and no timestamp (the same figure gives the same bytes);
    the caption (``title``, default the figure's title) goes into the PNG ``Title`` chunk.
    """
    if not _NAME.fullmatch(name):
        raise ValueError(f"save_figure: name {name!r}: use letters, digits, '_' and '-' (no extension)")
    out = Path(stage_dir) / "figures" / f"{name}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"Software": None, "Title": _nfc(title if title is not None else figure_title(fig))}
    if fig.canvas is None or not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    with rc_context({"font.family": FONT}):
        fig.savefig(out, dpi=dpi, format="png", metadata=meta, facecolor="white")
    return out
