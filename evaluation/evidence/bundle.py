"""Writing evidence tables into a staging folder, the bundle index, and reading tables back."""
from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..fsutil import atomic_write_bytes
from .registry import EVIDENCE_DIR, INDEX_NAME, META_SUFFIX, SYNTHETIC_MARKER, TABLES, EvidenceError
from .table import EvidenceTable

# ---------------------------------------------------------------------------------------
# Writing and the index
# ---------------------------------------------------------------------------------------
def _atomic_write(path: Path, data: bytes) -> None:
    atomic_write_bytes(path, data)


def _json_bytes(obj: Any) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=2, allow_nan=False) + "\n").encode("utf-8")


def write_table(table: EvidenceTable, stage_dir: str | Path) -> Path:
    """Check ``table`` and write ``evidence/<id>.csv`` and ``evidence/<id>.meta.json``; return the CSV path."""
    table.check()
    ev = Path(stage_dir) / EVIDENCE_DIR
    csv = ev / f"{table.id}.csv"
    _atomic_write(csv, table.to_csv_bytes())
    _atomic_write(ev / f"{table.id}{META_SUFFIX}", _json_bytes(table.meta()))
    return csv


def mark_synthetic(stage_dir: str | Path) -> Path:
    """Mark a staging folder's data as synthetic (the report then says so on its first page)."""
    p = Path(stage_dir) / SYNTHETIC_MARKER
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("The evidence in this folder is computed from synthetic data.\n", encoding="utf-8")
    return p


def build_index(stage_dir: str | Path, *, require: Iterable[str] | None = None) -> Path:
    """Gather ``evidence/*.meta.json`` into ``evidence/index.json`` and delete the sidecars.

    ``index.json`` is a JSON list, one entry per table sorted by id: ``id, title_vi, title_en,
    notebook, notes {vi, en}, columns [{name, label_vi, label_en, format}], keys, rows,
    suppressed_rows, min_cell, synthetic, csv, sha256``. Entries of an existing index are kept
    (so the call can be repeated). Raises ``EvidenceError`` when a CSV has no metadata, a
    metadata file has no CSV, a CSV header differs from its metadata, or a table in
    ``require`` (e.g. ``CONTRACT_TABLE_IDS``) is missing.
    """
    ev = Path(stage_dir) / EVIDENCE_DIR
    ev.mkdir(parents=True, exist_ok=True)
    index_path = ev / INDEX_NAME
    entries: dict[str, dict] = {}
    if index_path.is_file():
        for e in json.loads(index_path.read_text(encoding="utf-8")):
            entries[e["id"]] = e
    sidecars = sorted(ev.glob(f"*{META_SUFFIX}"))
    for p in sidecars:
        meta = json.loads(p.read_text(encoding="utf-8"))
        entries[meta["id"]] = meta
    for csv in sorted(ev.glob("*.csv")):
        if csv.stem not in entries:
            raise EvidenceError(f"{csv}: no metadata for this table; write evidence tables with evidence.write_table")
    out = []
    for tid in sorted(entries):
        e = dict(entries[tid])
        csv = ev / f"{tid}.csv"
        if not csv.is_file():
            raise EvidenceError(f"{ev / (tid + META_SUFFIX)}: the table's CSV {csv.name} is missing")
        data = csv.read_bytes()
        header = data.split(b"\n", 1)[0].decode("utf-8").split(",")
        names = [c["name"] for c in e["columns"]]
        if header != names:
            raise EvidenceError(f"{csv}: header {header} differs from its metadata columns {names}")
        if tid in TABLES:
            missing = [c for c in TABLES[tid].columns if c not in header]
            if missing:
                raise EvidenceError(f"{csv}: missing minimum column(s) {', '.join(missing)}")
        e["csv"] = f"{EVIDENCE_DIR}/{tid}.csv"
        e["sha256"] = hashlib.sha256(data).hexdigest()
        out.append(e)
    if require is not None:
        missing_t = [t for t in require if t not in entries]
        if missing_t:
            raise EvidenceError(f"{ev}: evidence table(s) missing: {', '.join(missing_t)}")
    _atomic_write(index_path, _json_bytes(out))
    for p in sidecars:
        p.unlink()
    return index_path


def read_index(stage_dir: str | Path) -> list[dict]:
    """The entries of ``evidence/index.json``."""
    return json.loads((Path(stage_dir) / EVIDENCE_DIR / INDEX_NAME).read_text(encoding="utf-8"))


def read_table(stage_dir: str | Path, entry: Mapping[str, Any] | str) -> pd.DataFrame:
    """Read an evidence CSV back with typed columns (codes as text, counts Int64, booleans, floats)."""
    if isinstance(entry, str):
        entry = next(e for e in read_index(stage_dir) if e["id"] == entry)
    return frame_from_csv_bytes((Path(stage_dir) / EVIDENCE_DIR / f"{entry['id']}.csv").read_bytes(), entry["columns"])


def frame_from_csv_bytes(data: bytes, columns: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """An evidence CSV's bytes as the typed frame ``read_table`` returns (``columns``: the index
    entry's ``[{name, format}, ...]``): codes as text, counts Int64, booleans, floats."""
    df = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")
    for col in columns:
        c, fmt = col["name"], col["format"]
        if fmt == "bool":
            df[c] = df[c].map({"true": True, "false": False}).astype("boolean")
        elif fmt in ("count", "int", "year"):
            df[c] = pd.to_numeric(df[c]).astype("Int64")
        elif fmt in ("rate", "pp", "p", "number"):
            df[c] = pd.to_numeric(df[c]).astype("float64")
    return df

