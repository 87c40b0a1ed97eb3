"""Figures: render in Vietnamese and English without missing glyphs; deterministic PNG bytes."""
from __future__ import annotations

import hashlib
import warnings

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

import evidence_fixtures as fx
from evaluation import figures as fg

VI_TEXT = "Trường THCS Nhị Long Phú – tỷ lệ học nghề"


def _draw_without_glyph_warnings(fig: Figure) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.canvas.draw()
    glyph = [str(w.message) for w in caught if "glyph" in str(w.message).lower() or "missing from" in str(w.message)]
    assert not glyph, glyph


def test_vietnamese_text_renders_with_every_glyph():
    fig = Figure(figsize=(5, 1))
    fg.FigureCanvasAgg(fig)
    with fg._style():
        fig.text(0.02, 0.5, VI_TEXT)
        # the decomposed form is normalised before drawing
        fig.suptitle(fg._nfc("Trường THCS Nhi\u0323 Long Phu\u0301"))
    _draw_without_glyph_warnings(fig)
    assert fig.texts[0].get_fontname() == "DejaVu Sans"
    assert fg._nfc("Phu\u0301") == "Phú"


def test_missing_glyph_would_be_caught():
    # the check above can fail: a character DejaVu Sans lacks (a CJK ideograph) warns
    fig = Figure(figsize=(3, 1))
    fg.FigureCanvasAgg(fig)
    with fg._style():
        fig.text(0.1, 0.5, "\u8d8a")
    with pytest.raises(AssertionError):
        _draw_without_glyph_warnings(fig)


@pytest.fixture(scope="module")
def tables():
    return {t.id: t.data for t in fx.all_tables()}


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_figure_renders(tables, lang):
    figs = {
        "uptake": fg.uptake_vs_target(tables["uptake_by_year"], lang),
        "communes": fg.communes_vs_target(tables["uptake_by_commune"], lang, 2025),
        "coverage": fg.coverage_over_time(tables["coverage_by_year"], lang),
        "event": fg.event_study_plot(tables["event_study"], lang),
        "equity": fg.equity_gaps_plot(tables["equity_gaps"], lang),
    }
    for name, fig in figs.items():
        assert isinstance(fig, Figure)
        _draw_without_glyph_warnings(fig)
        assert fg.figure_title(fig) == fg._nfc(fig.get_suptitle()) and fg.figure_title(fig)
    assert figs["uptake"].axes[0].get_ylabel() == ("% học sinh tốt nghiệp" if lang == "vi" else "% of graduates")
    assert figs["uptake"].axes[0].get_xlabel() == ("Năm tốt nghiệp" if lang == "vi" else "Graduation year")
    assert ("2025" in fg.figure_title(figs["communes"]))
    # communes: the suppressed commune is listed without a bar, the target drawn at 40 %
    ax = figs["communes"].axes[1]  # THPT
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert any("Xã Đại Phước" in s and ("ẩn" in s or "suppressed" in s) for s in labels)
    assert any(np.allclose(line.get_xdata(), 0.4) for line in ax.get_lines())
    # event study: a zero line and one error bar series per estimator
    ev_ax = figs["event"].axes[0]
    assert any(np.allclose(line.get_ydata(), 0) for line in ev_ax.get_lines())
    assert len(ev_ax.containers) == 2


def test_empty_frame_gives_a_figure_saying_so(tables):
    fig = fg.uptake_vs_target(tables["uptake_by_year"].iloc[0:0], "vi")
    assert any(t.get_text() == "Không có số liệu" for t in fig.axes[0].texts)
    with pytest.raises(ValueError, match="lacks column\\(s\\) target"):
        fg.uptake_vs_target(tables["uptake_by_year"].drop(columns="target"), "vi")
    with pytest.raises(ValueError, match="lang"):
        fg.coverage_over_time(tables["coverage_by_year"], "fr")


def test_save_figure_is_deterministic_and_carries_the_caption(tmp_path, tables):
    p1 = fg.save_figure(fg.uptake_vs_target(tables["uptake_by_year"], "vi"), tmp_path / "a", "uptake_vs_target")
    p2 = fg.save_figure(fg.uptake_vs_target(tables["uptake_by_year"], "vi"), tmp_path / "b", "uptake_vs_target")
    assert p1.name == "uptake_vs_target.png" and p1.parent.name == "figures"
    assert hashlib.sha256(p1.read_bytes()).digest() == hashlib.sha256(p2.read_bytes()).digest()
    with Image.open(p1) as im:
        assert im.text.get("Title") == "Tỷ lệ học nghề sau tốt nghiệp so với chỉ tiêu"
        assert "Software" not in im.text
        assert im.size == (int(10 * fg.DPI), int(4 * fg.DPI))
    with pytest.raises(ValueError, match="name"):
        fg.save_figure(Figure(), tmp_path, "../evil")
