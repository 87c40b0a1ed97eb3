"""Every path the toolkit uses is decided here, from the package's own location.

Notebooks and tests never spell a path by hand: they import these names.
"""
from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
#: Reference tables shipped inside the package (targets, labels, crosswalk).
REFERENCE_DIR = PACKAGE_DIR / "reference_data"


def _find_root() -> Path:
    for candidate in (PACKAGE_DIR.parent, *PACKAGE_DIR.parents):
        if (candidate / "pyproject.toml").is_file() and (candidate / "evaluation").is_dir():
            return candidate
    return Path.cwd()


#: The repository root (the folder holding ``pyproject.toml``).
ROOT = _find_root()
NOTEBOOKS_DIR = ROOT / "notebooks"
PARAMS_DIR = ROOT / "params"
DATA_DIR = ROOT / "data"
#: Where the synthetic sample is generated on first use (git-ignored).
SAMPLE_DIR = DATA_DIR / "sample"
#: Default parent folder of evidence bundles (git-ignored).
OUTPUT_DIR = ROOT / "output"
BENCHMARKS_DIR = ROOT / "benchmarks"


def resolve(path: str | Path, base: Path = ROOT) -> Path:
    """Resolve a user-given path: absolute as is, relative against ``base`` (the repo root)."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else (base / p).resolve()
