"""Vietnamese text as it arrives in district workbooks: Unicode forms, legacy font encodings, names.

Three problems, one module:

1. **Unicode normal form.** The same "ồ" can be one code point (NFC) or "o" + circumflex + grave
   (NFD, as macOS and some web forms write it). Every text cell is normalised to NFC
   (:func:`nfc`), so equal names compare equal and files are byte-identical.
2. **Legacy font encodings.** Before Unicode, Vietnamese was typed with 8-bit fonts: **TCVN3
   (ABC)** fonts (``.VnTime``) put each accented letter on one byte (``"Cµng Long"`` is "Càng
   Long"), **VNI** fonts (``VNI-Times``) put the base letter and then one byte per mark
   (``"Caøng Long"``). Excel shows such cells as Latin-1 gibberish. :func:`decode_legacy` tries
   both readings and keeps the one whose words are valid Vietnamese syllables
   (:func:`syllable_score`); the original text wins every tie, so valid Unicode text is never
   "converted". :func:`decode_column` decides a whole column at once (a cell whose reading is
   ambiguous follows the column's majority) and says what it did.
3. **Names to codes.** :func:`match_names` matches school or commune names typed by hand to the
   codes of a register, tolerant of case, spacing, missing diacritics and the unit prefixes
   ("Xã"/"X.", "Thị trấn"/"TT", "Trường"/"Trường THCS"...). A name that matches no entry or more
   than one is reported with its candidates, never guessed.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Iterable, Mapping, Sequence

# ------------------------------------------------------------------------------------------------
# Unicode
# ------------------------------------------------------------------------------------------------
_SPACES = re.compile(r"\s+")


def nfc(text: str) -> str:
    """``text`` in Unicode NFC with runs of white space (incl. no-break spaces) made one space and
    trimmed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", str(text)).replace("\u00a0", " ")).strip()


def fold(text: str) -> str:
    """A comparison key: NFC, lower case, diacritics removed ("đ" -> "d"), every run of
    non-alphanumeric characters one space. ``fold("Xã  Nhị-Long") == "xa nhi long"``."""
    s = unicodedata.normalize("NFD", str(text).replace("đ", "d").replace("Đ", "D"))
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^0-9a-z]+", " ", s).strip()


# ------------------------------------------------------------------------------------------------
# Legacy encodings
# ------------------------------------------------------------------------------------------------
#: TCVN3 (TCVN 5712:1993, "ABC") byte -> Unicode letter. The ABC fonts have no upper-case accented
#: letters: upper case was shown by a separate "H" font over the same bytes, so those bytes decode
#: to lower case here.
TCVN3: dict[str, str] = {chr(b): u for b, u in {
    0xA1: "Ă", 0xA2: "Â", 0xA3: "Ê", 0xA4: "Ô", 0xA5: "Ơ", 0xA6: "Ư", 0xA7: "Đ",
    0xA8: "ă", 0xA9: "â", 0xAA: "ê", 0xAB: "ô", 0xAC: "ơ", 0xAD: "ư", 0xAE: "đ",
    0xB5: "à", 0xB6: "ả", 0xB7: "ã", 0xB8: "á", 0xB9: "ạ",
    0xBB: "ằ", 0xBC: "ẳ", 0xBD: "ẵ", 0xBE: "ắ", 0xC6: "ặ",
    0xC7: "ầ", 0xC8: "ẩ", 0xC9: "ẫ", 0xCA: "ấ", 0xCB: "ậ",
    0xCC: "è", 0xCE: "ẻ", 0xCF: "ẽ", 0xD0: "é", 0xD1: "ẹ",
    0xD2: "ề", 0xD3: "ể", 0xD4: "ễ", 0xD5: "ế", 0xD6: "ệ",
    0xD7: "ì", 0xD8: "ỉ", 0xDC: "ĩ", 0xDD: "í", 0xDE: "ị",
    0xDF: "ò", 0xE1: "ỏ", 0xE2: "õ", 0xE3: "ó", 0xE4: "ọ",
    0xE5: "ồ", 0xE6: "ổ", 0xE7: "ỗ", 0xE8: "ố", 0xE9: "ộ",
    0xEA: "ờ", 0xEB: "ở", 0xEC: "ỡ", 0xED: "ớ", 0xEE: "ợ",
    0xEF: "ù", 0xF1: "ủ", 0xF2: "ũ", 0xF3: "ú", 0xF4: "ụ",
    0xF5: "ừ", 0xF6: "ử", 0xF7: "ữ", 0xF8: "ứ", 0xF9: "ự",
    0xFA: "ỳ", 0xFB: "ỷ", 0xFC: "ỹ", 0xFD: "ý", 0xFE: "ỵ",
}.items()}
_TCVN3_ENCODE = {v: k for k, v in TCVN3.items() if v.islower() or v in "ĂÂÊÔƠƯĐ"}

#: VNI (VNI-Windows) letters that are one byte.
_VNI_SINGLE = {"ô": "ơ", "Ô": "Ơ", "ö": "ư", "Ö": "Ư", "ñ": "đ", "Ñ": "Đ", "ì": "ì", "Ì": "Ì", "í": "í",
               "Í": "Í", "æ": "ỉ", "Æ": "Ỉ", "ó": "ĩ", "Ó": "Ĩ", "ò": "ị", "Ò": "Ị", "î": "ỵ", "Î": "Ỵ"}
#: VNI mark bytes that follow a base vowel -> the Unicode combining marks they stand for.
_GRAVE, _ACUTE, _HOOK, _TILDE, _DOT = "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"
_CIRC, _BREVE = "\u0302", "\u0306"
_VNI_MARKS = {
    "ø": _GRAVE, "ù": _ACUTE, "û": _HOOK, "õ": _TILDE, "ï": _DOT,
    "â": _CIRC, "á": _CIRC + _ACUTE, "à": _CIRC + _GRAVE, "å": _CIRC + _HOOK, "ã": _CIRC + _TILDE,
    "ä": _CIRC + _DOT,
    "ê": _BREVE, "é": _BREVE + _ACUTE, "è": _BREVE + _GRAVE, "ú": _BREVE + _HOOK, "ü": _BREVE + _TILDE,
    "ë": _BREVE + _DOT,
}
_VNI_MARKS = {k: unicodedata.normalize("NFD", "a" + v)[1:] for k, v in _VNI_MARKS.items()}  # canonical order
_VNI_MARKS.update({k.upper(): v for k, v in list(_VNI_MARKS.items())})
_VNI_BASES = set("aeiouyAEIOUY") | {"ơ", "Ơ", "ư", "Ư"}


def tcvn3_to_unicode(text: str) -> str:
    """Read ``text`` (as Excel shows a cell typed in a TCVN3/ABC font) as TCVN3; NFC result."""
    return nfc("".join(TCVN3.get(ch, ch) for ch in str(text)))


def unicode_to_tcvn3(text: str) -> str:
    """The inverse of :func:`tcvn3_to_unicode` for lower-case accented letters (what a TCVN3 font
    stores); used to build test fixtures. Upper-case accented letters other than ĂÂÊÔƠƯĐ have no
    TCVN3 byte and are lower-cased first."""
    out = []
    for ch in unicodedata.normalize("NFC", str(text)):
        if ch in _TCVN3_ENCODE:
            out.append(_TCVN3_ENCODE[ch])
        elif ch.lower() in _TCVN3_ENCODE and ch not in "ĂÂÊÔƠƯĐ":
            out.append(_TCVN3_ENCODE[ch.lower()])
        else:
            out.append(ch)
    return "".join(out)


def vni_to_unicode(text: str) -> str:
    """Read ``text`` (as Excel shows a cell typed in a VNI font) as VNI; NFC result."""
    out: list[str] = []
    for ch in str(text):
        if out and ch in _VNI_MARKS and (unicodedata.normalize("NFD", out[-1])[0] in _VNI_BASES
                                         or out[-1] in _VNI_BASES):
            base = out.pop()
            marks = _VNI_MARKS[ch]
            decomposed = unicodedata.normalize("NFD", base)
            out.append(unicodedata.normalize("NFC", decomposed[0] + marks + decomposed[1:]))
        elif ch in _VNI_SINGLE:
            out.append(_VNI_SINGLE[ch])
        else:
            out.append(ch)
    return nfc("".join(out))


def unicode_to_vni(text: str) -> str:
    """The inverse of :func:`vni_to_unicode` (for test fixtures)."""
    single = {v: k for k, v in _VNI_SINGLE.items()}
    marks_inv = {v: k for k, v in _VNI_MARKS.items() if k.islower()}
    marks_inv_up = {v: k for k, v in _VNI_MARKS.items() if k.isupper()}
    out = []
    for ch in unicodedata.normalize("NFC", str(text)):
        if ch in single:
            out.append(single[ch])
            continue
        d = unicodedata.normalize("NFD", ch)
        base, marks = d[0], d[1:]
        if base in "oOuU" and _HORN in marks:
            base = {"o": "ô", "O": "Ô", "u": "ö", "U": "Ö"}[base]
            marks = marks.replace(_HORN, "")
        if not marks:
            out.append(base)
            continue
        cand = unicodedata.normalize("NFC", base + marks)
        if cand in single:
            out.append(single[cand])
            continue
        table = marks_inv_up if base.isupper() else marks_inv
        if marks in table:
            out.append(base + table[marks])
        else:  # a letter VNI writes as one byte (ì, í) or something VNI lacks: keep
            out.append(ch)
    return "".join(out)


_HORN = "\u031b"

# -- syllable validity -------------------------------------------------------------------------
_INITIALS = ("ngh", "ch", "gh", "gi", "kh", "ng", "nh", "ph", "qu", "th", "tr",
             "b", "c", "d", "đ", "g", "h", "k", "l", "m", "n", "p", "q", "r", "s", "t", "v", "x")
_FINALS = ("ch", "ng", "nh", "c", "m", "n", "p", "t")
#: Vowel nuclei that may take a final consonant, and those that end the syllable (they end in a
#: semivowel i/y/o/u, or are ia/ua/ưa).
_NUCLEI_CLOSED = frozenset("a ă â e ê i o ô ơ u ư y iê oa oă oe uâ uê uô ươ uy yê uyê oo".split())
_NUCLEI_OPEN = frozenset("""ai ao au ay âu ây eo êu ia iu oi ôi ơi ua ui ưa ưi ưu iêu oai oay oao oeo uây
uôi ươi ươu uya yêu uyu""".split())
_NUCLEI = _NUCLEI_CLOSED | _NUCLEI_OPEN
_TONES = {_GRAVE, _ACUTE, _HOOK, _TILDE, _DOT}
_VIET_LETTER = re.compile(r"[a-zA-Zàáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ"
                          r"ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴĐ]")


def is_syllable(word: str) -> bool:
    """True when ``word`` is a well-formed Vietnamese syllable (initial consonant, vowel nucleus
    with at most one tone mark, final consonant), e.g. "trường", "Nhị", "Khmer" is not."""
    w = unicodedata.normalize("NFD", word.lower())
    tones = [c for c in w if c in _TONES]
    if len(tones) > 1:
        return False
    w = unicodedata.normalize("NFC", "".join(c for c in w if c not in _TONES))
    if not w or not all(_VIET_LETTER.fullmatch(c) for c in w):
        return False
    for ini in _INITIALS + ("",):
        if not w.startswith(ini):
            continue
        rest = w[len(ini):]
        if ini in ("gi", "qu") and rest == "":
            continue
        for fin in _FINALS + ("",):
            if fin and not rest.endswith(fin):
                continue
            nucleus = rest[: len(rest) - len(fin)]
            allowed = _NUCLEI_CLOSED if fin else _NUCLEI
            if nucleus in allowed:
                return True
            if ini == "gi" and (("i" + nucleus) in allowed or (nucleus == "" and fin)):
                return True
    return False


_WORD = re.compile(r"[^\s\d.,;:()\[\]/\\\-–_+*&%#'\"!?]+")


def syllable_score(text: str) -> int:
    """How Vietnamese ``text`` reads: +1 per word that is a valid syllable and not plain ASCII,
    -1 per word that holds a character outside the Vietnamese alphabet; ASCII words count 0."""
    score = 0
    for w in _WORD.findall(text):
        if w.isascii():
            continue
        if is_syllable(w):
            score += 1
        elif not all(_VIET_LETTER.fullmatch(c) for c in w):
            score -= 1
    return score


ENCODINGS: tuple[str, ...] = ("unicode", "tcvn3", "vni")


@dataclass(frozen=True)
class Decoded:
    """One cell read as Vietnamese text: ``text`` (NFC), ``encoding`` it was read as
    (unicode/tcvn3/vni), ``normalised`` (True when the input was not NFC) and ``ambiguous`` (a
    legacy reading scored as well as the Unicode one)."""

    text: str
    encoding: str
    normalised: bool = False
    ambiguous: bool = False


def decode_legacy(text: str) -> Decoded:
    """``text`` read as Unicode, TCVN3 or VNI, whichever gives the most valid Vietnamese words.

    Only text made entirely of Latin-1 characters can be a legacy encoding (anything beyond, such
    as "ư" or "ạ", proves Unicode). The Unicode reading wins ties."""
    raw = str(text)
    t = nfc(raw)
    normalised = unicodedata.normalize("NFC", raw) != raw
    if t.isascii() or any(ord(c) > 0xFF for c in t):
        return Decoded(t, "unicode", normalised)
    base = syllable_score(t)
    scores = {}
    for enc, fn in (("tcvn3", tcvn3_to_unicode), ("vni", vni_to_unicode)):
        cand = fn(t)
        if cand != t:
            scores[enc] = (syllable_score(cand), cand)
    if not scores:
        return Decoded(t, "unicode", normalised)
    top = max(s for s, _ in scores.values())
    if top < base or top <= 0:
        return Decoded(t, "unicode", normalised)
    best = [enc for enc, (s, _) in scores.items() if s == top]
    if len(best) > 1:  # both legacy readings equally good: the bytes only one of them uses decide
        best = [enc for enc in best if _signature(t, enc)] or best
    if len(best) > 1 or top == base:
        return Decoded(t, "unicode", normalised, ambiguous=True)
    return Decoded(scores[best[0]][1], best[0], normalised)


#: Characters a TCVN3 cell can hold that no VNI cell holds, and VNI marks after a base vowel.
_TCVN3_ONLY = frozenset(TCVN3) - frozenset(_VNI_MARKS) - frozenset(_VNI_SINGLE)
_VNI_PATTERN = re.compile("[aeiouyAEIOUYôöÔÖ][" + "".join(sorted(_VNI_MARKS)) + "]")


def _signature(text: str, enc: str) -> bool:
    if enc == "tcvn3":
        return any(c in _TCVN3_ONLY for c in text)
    return bool(_VNI_PATTERN.search(text)) or any(c in "ñÑöÖ" for c in text)


def decode_column(values: Sequence[object]) -> tuple[list[object], dict[str, int]]:
    """Decode every text cell of one column (:func:`decode_legacy`).

    A cell whose legacy reading is only as good as its Unicode reading (``ambiguous``, e.g.
    "Phó", which is "Phú" in TCVN3) is read the way most decided cells of the column were read.
    Non-text cells pass through. Returns the new values and a count per decision
    (``nfc``, ``tcvn3``, ``vni``, ``ambiguous_kept``)."""
    decoded: list[Decoded | None] = [decode_legacy(v) if isinstance(v, str) else None for v in values]
    votes = {"tcvn3": 0, "vni": 0, "unicode": 0}
    for d, v in zip(decoded, values):
        if d is None or d.ambiguous:
            continue
        if d.encoding != "unicode":
            votes[d.encoding] += 1
        elif not str(v).isascii():
            votes["unicode"] += 1
    majority = max(("tcvn3", "vni"), key=lambda k: votes[k])
    use_legacy = votes[majority] > votes["unicode"]
    counts = {"nfc": 0, "tcvn3": 0, "vni": 0, "ambiguous_kept": 0}
    out: list[object] = []
    for d, v in zip(decoded, values):
        if d is None:
            out.append(v)
            continue
        if d.ambiguous:
            if use_legacy:
                d = Decoded((tcvn3_to_unicode if majority == "tcvn3" else vni_to_unicode)(d.text), majority,
                            d.normalised)
            elif votes["tcvn3"] or votes["vni"]:  # worth a line in the report only in a mixed column
                counts["ambiguous_kept"] += 1
        if d.normalised:
            counts["nfc"] += 1
        if d.encoding != "unicode":
            counts[d.encoding] += 1
        out.append(d.text)
    return out, counts


# ------------------------------------------------------------------------------------------------
# Names -> codes
# ------------------------------------------------------------------------------------------------
#: Unit prefixes (folded) -> their canonical kind. Longer spellings first.
UNIT_PREFIXES: tuple[tuple[str, str], ...] = (
    ("thi tran", "thi_tran"), ("tt", "thi_tran"), ("t tr", "thi_tran"),
    ("xa", "xa"), ("x", "xa"),
    ("phuong", "phuong"), ("p", "phuong"),
)
#: Words that start a school name (folded), removed before comparing. The level they name is
#: kept apart, so "THCS Nhị Long" never matches "THPT Nhị Long".
SCHOOL_WORDS: tuple[str, ...] = ("truong", "tr")
SCHOOL_LEVEL_WORDS: tuple[tuple[str, str], ...] = (
    ("pho thong dan toc noi tru thcs va thpt", "DTNT"), ("pt dan toc noi tru thcs va thpt", "DTNT"),
    ("pho thong dan toc noi tru", "DTNT"), ("pt dan toc noi tru", "DTNT"), ("pt dtnt", "DTNT"),
    ("dan toc noi tru", "DTNT"), ("dtnt", "DTNT"),
    ("trung hoc co so", "THCS"), ("thcs", "THCS"),
    ("trung hoc pho thong", "THPT"), ("thpt", "THPT"),
    ("tieu hoc va thcs", "TH_THCS"), ("th va thcs", "TH_THCS"), ("th thcs", "TH_THCS"),
)


def split_unit(name: str, *, kind: str = "commune") -> tuple[str | None, str]:
    """``(prefix_kind, core)`` of a folded name: ``split_unit("X. Mỹ Cẩm") == ("xa", "my cam")``.

    For schools the prefix is the level ("THCS", "THPT", "DTNT"...) after "Trường" is dropped,
    and a commune unit word at the start of the rest ("Thị trấn", "TT", "Xã") is dropped too.
    """
    f = fold(name)
    if kind == "school":
        for w in SCHOOL_WORDS:
            if f.startswith(w + " "):
                f = f[len(w) + 1:]
                break
        lvl = None
        for words, lv in SCHOOL_LEVEL_WORDS:
            if f == words:
                return lv, ""
            if f.startswith(words + " "):
                lvl, f = lv, f[len(words) + 1:]
                break
        # the commune a school is named after, written with or without its unit ("THCS Thị trấn
        # Càng Long" = "THCS TT Càng Long" = "THCS Càng Long")
        for words, _k in UNIT_PREFIXES:
            if f.startswith(words + " "):
                f = f[len(words) + 1:]
                break
        return lvl, f
    for words, k in UNIT_PREFIXES:
        if f.startswith(words + " "):
            return k, f[len(words) + 1:]
    return None, f


@dataclass(frozen=True)
class NameMatch:
    """The result of matching one name: ``code`` when exactly one register entry fits, else
    ``None`` with ``status`` "unmatched" or "ambiguous" and the ``candidates`` (code, name) worth
    showing the user. ``how`` says which rule matched (exact, folded, without prefix)."""

    name: str
    code: str | None
    status: str
    how: str = ""
    candidates: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def candidates_text(self) -> str:
        if not self.candidates:
            return "no similar name in the register"
        return "; ".join(f"{c} ({n})" for c, n in self.candidates)


def _norm(text: str) -> str:
    """NFC, lower case, every run of characters other than letters and digits one space: the same
    length and character positions as :func:`fold` of the same text."""
    s = unicodedata.normalize("NFC", str(text)).lower()
    s = "".join(ch if (ch.isalnum() and (ch.isascii() or _VIET_LETTER.fullmatch(ch))) else " " for ch in s)
    return re.sub(r" +", " ", s).strip()


def _strip_marks(ch: str, *, keep_shape: bool) -> str:
    d = unicodedata.normalize("NFD", ch.replace("đ", "d") if not keep_shape else ch)
    marks = _TONES if keep_shape else None
    return unicodedata.normalize("NFC", "".join(c for c in d if not unicodedata.combining(c)
                                               or (marks is not None and c not in marks)))


def compatible(typed: str, register: str) -> bool:
    """True when ``typed`` is ``register`` with some diacritics left out (never with other ones):
    each letter is the register's letter, or it without its tone mark, or its bare base letter.
    ``compatible("nhi long", "nhị long")`` but not ``compatible("mỹ cầm", "mỹ cẩm")``."""
    a, b = _norm(typed), _norm(register)
    if len(a) != len(b):
        return False
    return all(x == y or x == _strip_marks(y, keep_shape=True) or x == _strip_marks(y, keep_shape=False)
               for x, y in zip(a, b))


def _unit_core(name: str, kind: str) -> tuple[str | None, str]:
    """:func:`split_unit`, but the core keeps its diacritics (for :func:`compatible`)."""
    n = _norm(name)
    p, core = split_unit(name, kind=kind)
    return p, n[len(n) - len(core):] if core else ""


def match_names(names: Iterable[str], register: Mapping[str, str], *, kind: str = "commune",
                n_candidates: int = 3) -> dict[str, NameMatch]:
    """Match each distinct name to a code of ``register`` (code -> name), never guessing.

    Rules, in order, each needing exactly one hit: the code itself; the name compared without
    case, spacing or punctuation and with missing diacritics allowed (:func:`compatible`: a
    letter may lack its marks, but a different mark is a different name); the same without the
    unit prefix ("Xã", "X.", "Thị trấn", "TT"; for schools "Trường" and the level), provided
    the prefixes agree when both are written. Zero hits: ``unmatched``, with the closest register
    names as candidates; two or more: ``ambiguous``, with all of them.
    """
    codes = {str(c): str(n) for c, n in register.items()}
    by_code_folded: dict[str, list[str]] = {}
    for c in codes:
        by_code_folded.setdefault(fold(c), []).append(c)
    by_fold: dict[str, list[str]] = {}
    by_core: dict[str, list[tuple[str | None, str]]] = {}
    for c, n in codes.items():
        by_fold.setdefault(fold(n), []).append(c)
        p, core = split_unit(n, kind=kind)
        by_core.setdefault(core, []).append((p, c))
    out: dict[str, NameMatch] = {}
    for raw in names:
        if raw in out:
            continue
        name = nfc(raw)
        if name in codes:
            out[raw] = NameMatch(name, name, "matched", "code")
            continue
        hits = by_code_folded.get(fold(name), [])
        if len(hits) == 1 and _norm(hits[0]) == _norm(name):
            out[raw] = NameMatch(name, hits[0], "matched", "code (case/spacing)")
            continue
        near = sorted(set(by_fold.get(fold(name), [])))
        hits = [c for c in near if compatible(name, codes[c])]
        if len(hits) == 1:
            out[raw] = NameMatch(name, hits[0], "matched", "name" if nfc(codes[hits[0]]) == name else
                                 "name (case, spacing or missing diacritics)")
            continue
        if len(hits) > 1:
            out[raw] = NameMatch(name, None, "ambiguous", candidates=tuple((c, codes[c]) for c in hits))
            continue
        p, core = split_unit(name, kind=kind)
        _, core_vn = _unit_core(name, kind)
        entries = by_core.get(core, []) if core else []
        fits = sorted({c for q, c in entries if (p is None or q is None or q == p)
                       and compatible(core_vn, _unit_core(codes[c], kind)[1])})
        if len(fits) == 1:
            out[raw] = NameMatch(name, fits[0], "matched", "name without its prefix")
        elif len(fits) > 1:
            out[raw] = NameMatch(name, None, "ambiguous", candidates=tuple((c, codes[c]) for c in fits))
        else:
            cands = tuple((c, codes[c]) for c in near) or tuple(
                (c, codes[c]) for q, c in sorted(entries, key=lambda e: e[1]))
            out[raw] = NameMatch(name, None, "unmatched",
                                 candidates=cands or _closest(name, codes, kind=kind, n=n_candidates))
    return out


def _closest(name: str, codes: Mapping[str, str], *, kind: str, n: int) -> tuple[tuple[str, str], ...]:
    core = split_unit(name, kind=kind)[1] or fold(name)
    scored = []
    for c, nm in codes.items():
        other = split_unit(nm, kind=kind)[1] or fold(nm)
        r = SequenceMatcher(None, core, other).ratio()
        if r >= 0.5:
            scored.append((-r, c, nm))
    scored.sort()
    return tuple((c, nm) for _, c, nm in scored[:n])
