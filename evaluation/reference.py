"""Reference tables shipped with the toolkit: policy targets, labels, commune crosswalk.

Each fact carries its ``standing`` (verified / reported / assumed / not found) and its
``source``. A user's targets file (same columns as ``reference_data/targets.csv``) and the
parameters override or extend the shipped targets; no code changes for a new target set.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

from .paths import REFERENCE_DIR

TARGET_COLUMNS = ("target_set", "indicator", "level", "area_type", "year_from", "year_to", "target",
                  "counted_destinations", "source", "standing", "note")


@lru_cache(maxsize=None)
def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE_DIR / name, dtype=str, keep_default_na=False, na_values=[""])


def shipped_targets() -> pd.DataFrame:
    """The policy targets shipped with the toolkit (``reference_data/targets.csv``)."""
    return _coerce_targets(_read("targets.csv").copy(), source_name="reference_data/targets.csv")


def _coerce_targets(df: pd.DataFrame, source_name: str) -> pd.DataFrame:
    missing = [c for c in TARGET_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{source_name}: missing column(s) {', '.join(missing)}; expected {', '.join(TARGET_COLUMNS)}")
    out = df.loc[:, list(TARGET_COLUMNS)].copy()
    for col in ("year_from", "year_to"):
        out[col] = pd.to_numeric(out[col], errors="raise").astype("int64")
    raw = out["target"].astype("string")
    out["target"] = pd.to_numeric(out["target"], errors="coerce").astype("float64")
    out["counted_destinations"] = out["counted_destinations"].fillna("").astype(str)
    bad = (raw.notna() & out["target"].isna()) | (out["target"] < 0) | (out["target"] > 1)
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise ValueError(f"{source_name}: row {i + 2}, column target, value {raw.iloc[i]}: "
                         "expected a fraction 0..1 (40 % is written 0.40)")
    from .contract import CONTROL_CHARACTERS, FORMULA_STARTS

    for col in ("indicator", "level", "area_type", "target_set", "source", "standing", "note", "counted_destinations"):
        text = out[col].fillna("").astype(str)
        bad = text.str.startswith(FORMULA_STARTS) | text.str.contains(CONTROL_CHARACTERS)
        if bad.any():  # the source and standing reach uptake_by_year and the reports
            i = int(bad.to_numpy().nonzero()[0][0])
            raise ValueError(f"{source_name}: row {i + 2}, column {col}, value {text.iloc[i]!r}: expected text that "
                             "does not start with =, +, -, @, a tab or a line break and holds no control character "
                             "(a spreadsheet opening the evidence would run it as a formula)")
    return out


def load_targets(target_sets: list[str] | tuple[str, ...] | None = None,
                 targets_file: str | Path | None = None,
                 overrides: list[dict] | None = None) -> pd.DataFrame:
    """The targets in force for a review: shipped sets, then a user's file, then overrides.

    A later source replaces an earlier row with the same
    (indicator, level, area_type, year_from, year_to); rows from the user get standing ``user``
    unless they give one. ``target_sets`` selects shipped sets (default: all of them).
    """
    frames = [shipped_targets()]
    if targets_file is not None:
        user = pd.read_csv(targets_file, dtype=str, keep_default_na=False, na_values=[""])
        user = user.assign(**{c: user.get(c, pd.Series("", index=user.index)) for c in ("source", "standing", "note", "counted_destinations") if c not in user.columns})
        user["standing"] = user["standing"].replace("", "user").fillna("user")
        if "target_set" not in user.columns:
            user["target_set"] = "user"
        frames.append(_coerce_targets(user, source_name=str(targets_file)))
    if overrides:
        ov = pd.DataFrame(overrides)
        for c, default in (("target_set", "user"), ("standing", "user"), ("source", "parameters"), ("note", ""), ("counted_destinations", "")):
            if c not in ov.columns:
                ov[c] = default
        frames.append(_coerce_targets(ov.astype(str).replace({"nan": "", "None": ""}), source_name="parameters: targets"))
    all_t = pd.concat(frames, ignore_index=True)
    if target_sets is not None:
        shipped = frames[0]
        keep_shipped = shipped["target_set"].isin(list(target_sets))
        all_t = pd.concat([shipped[keep_shipped], *frames[1:]], ignore_index=True)
    key = ["indicator", "level", "area_type", "year_from", "year_to"]
    # a row with a known target wins over an unknown one of an earlier source
    return all_t.drop_duplicates(subset=key, keep="last").reset_index(drop=True)


def target_in_force(targets: pd.DataFrame, *, indicator: str, level: str, year: int,
                    area_type: str = "general") -> pd.Series | None:
    """The target row in force for an indicator, level, year and area type, or ``None``.

    Among the rows whose period covers ``year`` the one with a numeric target and the latest
    ``year_from`` wins (a later target set supersedes an earlier one). A disadvantaged area
    with no own row falls back to the general target.
    """
    for area in ([area_type, "general"] if area_type != "general" else ["general"]):
        rows = targets[(targets["indicator"] == indicator) & (targets["level"] == level)
                       & (targets["area_type"] == area) & (targets["year_from"] <= year)
                       & (targets["year_to"] >= year) & targets["target"].notna()]
        if len(rows):
            return rows.sort_values(["year_from"], kind="stable").iloc[-1]
    return None


def labels() -> pd.DataFrame:
    """Vietnamese and English labels of every code: columns kind, code, label_vi, label_en."""
    return _read("labels.csv").copy()


@lru_cache(maxsize=None)
def _label_map(lang: str) -> dict[tuple[str, str], str]:
    col = {"vi": "label_vi", "en": "label_en"}[lang]
    df = _read("labels.csv")
    return {(k, c): v for k, c, v in zip(df["kind"], df["code"], df[col])}


def label(kind: str, code: str, lang: str = "vi") -> str:
    """The label of ``code`` of ``kind`` in ``lang`` (``vi`` or ``en``); the code itself if none."""
    return _label_map(lang).get((kind, str(code)), str(code))


def commune_crosswalk() -> pd.DataFrame:
    """The 2025 commune crosswalk shipped for Càng Long (pre-2025 code -> post-2025 commune)."""
    return _read("communes_cang_long.csv").copy()


def district_facts() -> pd.DataFrame:
    return _read("district_facts.csv").copy()
