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
