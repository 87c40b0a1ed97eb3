"""What a researcher sees in the notebooks: figures as images, tables formatted, results compact."""
from __future__ import annotations

import json

import pytest

import evidence_fixtures as fx
from evaluation import notebook as enb


def test_figures_display_as_png_not_as_their_repr():
    from IPython.core.formatters import DisplayFormatter

    from evaluation import figures as fg

    fig = fg.uptake_vs_target(fx.uptake_by_year_frame(), "vi")
    fmt = DisplayFormatter()
    before, _ = fmt.format(fig)
    assert "image/png" not in before and before["text/plain"].startswith("<Figure size")
    assert enb.enable_inline_figures(fmt)
    data, _ = fmt.format(fig)
    assert data["image/png"][:8] == b"\x89PNG\r\n\x1a\n"


def test_evidence_tables_show_formatted_in_the_run_language():
    up = next(t for t in fx.all_tables() if t.id == "uptake_by_year")
    vi = enb.formatted(up, lang="vi")
    assert list(vi.frame.columns[:5]) == ["Cấp học", "Năm tốt nghiệp", "Số HS tốt nghiệp", "Số HS học nghề",
                                          "Tỷ lệ học nghề"]
    assert vi.frame.iloc[0]["Tỷ lệ học nghề"] == "30,0 %" and vi.frame.iloc[0]["Số HS tốt nghiệp"] == "400"
    assert "30,0 %" in vi._repr_html_() and "<th" in vi._repr_html_()
    part = vi[["year", "rate"]]  # selected by the data's column names, as the summary notebook does
    assert list(part.frame.columns) == ["Năm tốt nghiệp", "Tỷ lệ học nghề"] and part.frame.iloc[0, 1] == "30,0 %"
    with pytest.raises(KeyError, match="not in this table"):
        vi[["nope"]]
    en = enb.formatted(up, lang="en")
    assert en.frame.iloc[0]["Vocational uptake"] == "30.0 %"
    eff = next(t for t in fx.all_tables() if t.id == "effect_overall")
    shown = enb.formatted(eff, lang="vi").frame
    assert shown.iloc[0]["Ước lượng (điểm %)"] == "5,0"  # pp with one decimal, never 0.0500 or six decimals
    assert "Hiệu ứng cố định hai chiều (TWFE)" in set(shown["Phương pháp ước lượng"])


def test_results_objects_show_as_one_compact_row_per_term():
    res = fx.twfe_result(b=0.05, se=0.01)
    c = enb.compact(res)
    assert list(c.columns) == ["term", "estimate_pp", "std_error", "ci_low", "ci_high", "p_value", "n_obs", "n_clusters"]
    assert len(c) == 1 and c.iloc[0]["estimate_pp"] == pytest.approx(5.0)
    text = repr(enb.formatted(res, lang="en"))
    assert "5.0" in text and "1.0" in text and len(text.splitlines()) == 2  # header and one row
    assert len(repr(enb.show(res, lang="vi")).splitlines()) == 2


def test_the_executed_notebooks_show_every_figure(sample_bundle):
    """Papermill-executed notebooks of the review (the runner's bundle): every figure cell holds
    an image/png output, and no output is a figure's bare repr."""
    n_images = 0
    for path in sorted((sample_bundle / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] != "code":
                continue
            for out in cell.get("outputs", []):
                data = out.get("data", {})
                plain = "".join(data.get("text/plain", []))
                assert not plain.startswith("<Figure size") or "image/png" in data, (path.name, cell["source"][:80])
                n_images += "image/png" in data
    assert n_images >= 5  # uptake, communes, coverage, event study, equity


def test_a_bundle_table_reads_formatted_or_raw(tmp_path):
    stage = fx.make_stage(tmp_path / "stage", figures=False)
    shown = enb.read_evidence(stage, "effect_overall", lang="en")
    assert shown.caption  # the table's English title
    assert shown.frame["Estimate (pp)"].tolist()[:2] == ["6.0", "5.0"]  # Callaway-Sant'Anna, then TWFE (THCS)
    raw = enb.read_evidence(stage, "effect_overall", raw=True)
    assert raw["estimate_pp"].tolist()[:2] == pytest.approx([6.0, 5.0])
