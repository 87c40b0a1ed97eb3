"""The HTML report opened in headless Chromium: every table has rows, the page is not blank."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

import evidence_fixtures as fx
from evaluation import evidence as ev
from evaluation.params import ReviewParams
from evaluation.report import build_report

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium binary at /usr/bin/chromium "
                                                     "(apt-get install chromium to run the browser test)"),
]


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    cmd = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
           f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def html_report(tmp_path_factory):
    stage = fx.make_stage(tmp_path_factory.mktemp("browser_stage"), synthetic=True)
    return stage, build_report(stage, ReviewParams())["html"]


def test_dom_has_every_table_with_rows(html_report, tmp_path):
    stage, html = html_report
    res = _chromium(tmp_path, "--dump-dom", html.as_uri())
    assert res.returncode == 0, res.stderr[-2000:]
    dom = res.stdout
    assert 'id="synthetic-notice"' in dom
    for e in ev.read_index(stage):
        m = re.search(rf'<table class="evidence" data-table-id="{e["id"]}">(.*?)</table>', dom, re.S)
        assert m, e["id"]
        body = m.group(1).split("<tbody>", 1)[1]
        assert body.count("<tr") == e["rows"] >= 1, e["id"]


def test_screenshot_is_not_blank(html_report, tmp_path):
    from PIL import Image

    _, html = html_report
    png = tmp_path / "page.png"
    res = _chromium(tmp_path, f"--screenshot={png}", "--window-size=1280,4000", "--hide-scrollbars", html.as_uri())
    assert png.is_file(), res.stderr[-2000:]
    with Image.open(png) as im:
        im = im.convert("RGB")
        assert im.size == (1280, 4000)
        colours = im.getcolors(maxcolors=1_000_000)
        assert colours is not None and len(colours) > 50
        # the red synthetic banner is on the first screen
        top = im.crop((0, 0, 1280, 400))
        reds = sum(n for n, (r, g, b) in top.getcolors(maxcolors=1_000_000) if r > 150 and g < 60 and b < 80)
        assert reds > 500


def _in_a_400_px_frame(html: Path, tmp_path: Path) -> Path:
    """A page holding the report in a 400 px wide frame (headless Chromium's window is at least
    500 px wide) that writes the report's own width, and its widest element, into the DOM; the
    report itself has no script."""
    import html as _html

    page = ('<!DOCTYPE html><html><body style="margin:0"><iframe id="f" style="width:400px;height:900px;border:0" '
            'srcdoc="' + _html.escape(html.read_text(encoding="utf-8"), quote=True) + '"></iframe><script>'
            "document.getElementById('f').addEventListener('load',()=>{const d=document.getElementById('f')"
            ".contentDocument;let worst='',max=0;for(const e of d.querySelectorAll('body *')){"
            "if(e.closest('.tablewrap'))continue;const r=e.getBoundingClientRect();if(r.right>max){max=r.right;"
            "worst=e.tagName+'.'+e.className;}}document.body.setAttribute('data-inner',d.documentElement.clientWidth);"
            "document.body.setAttribute('data-scroll-width',d.documentElement.scrollWidth);"
            "document.body.setAttribute('data-widest',worst+':'+max);});</script></body></html>")
    out = tmp_path / "frame.html"
    out.write_text(page, encoding="utf-8")
    return out


def test_readable_on_a_400_px_screen(html_report, tmp_path):
    _, html = html_report
    res = _chromium(tmp_path, "--window-size=800,1000", "--virtual-time-budget=5000", "--dump-dom",
                    _in_a_400_px_frame(html, tmp_path).as_uri())
    m = re.search(r'data-scroll-width="(\d+)"', res.stdout)
    assert m, res.stderr[-1500:]
    inner = int(re.search(r'data-inner="(\d+)"', res.stdout).group(1))
    widest = re.search(r'data-widest="([^"]*)"', res.stdout).group(1)
    assert 380 <= inner <= 400  # 400 px less a scroll bar
    assert int(m.group(1)) <= inner, widest  # no sideways scrolling of the page: wide tables scroll in their box


def test_prints_on_a4_with_every_column_and_the_summary_first(html_report, tmp_path):
    """Printed to PDF: A4 landscape pages, the summary on page 1, and every column header of every
    table present (a table cut at the page edge loses its last headers)."""
    import shutil

    stage, html = html_report
    pdf = tmp_path / "report.pdf"
    res = _chromium(tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", html.as_uri())
    assert pdf.is_file(), res.stderr[-2000:]
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) reads the printed PDF")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert re.search(r"Page size:\s+84[12]\.\d+ x 59[45]\.\d+", info), info
    pages = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout.split("\f")
    assert "Các con số chính so với chỉ tiêu" in pages[0]
    text = " ".join(" ".join(pages).split())
    from evaluation.report import _col_label, _load_tables

    for t in _load_tables(stage):
        for c in t.display_columns("vi"):
            label = " ".join(_col_label(c, "vi", t.entry).split())
            for word in label.split():
                assert word in text, (t.id, label)
        # the table starts on a new page with its caption (break-before), not at a page's foot
        starts = [p for p in pages if f"Bảng {t.number}. " in p]
        assert starts, t.id
