"""Vietnamese text: NFC, TCVN3 (ABC) and VNI legacy encodings, tolerant name matching."""
from __future__ import annotations

import unicodedata

import pytest

from evaluation.importer.vntext import (
    decode_column,
    decode_legacy,
    fold,
    is_syllable,
    match_names,
    nfc,
    tcvn3_to_unicode,
    unicode_to_tcvn3,
    unicode_to_vni,
    vni_to_unicode,
)
from evaluation.reference import commune_crosswalk

NAMES = ["Thị trấn Càng Long", "Xã Mỹ Cẩm", "Xã Nhị Long Phú", "Xã An Trường A", "Xã Tân Bình", "Xã Huyền Hội",
         "Xã Đức Mỹ", "Xã Đại Phước", "Xã Phương Thạnh", "Xã Đại Phúc", "Trường THCS Thị trấn Càng Long",
         "Trường PT Dân tộc nội trú THCS và THPT Càng Long", "Trường THPT Nguyễn Đáng", "Lâm Thị Thu Hường",
         "Thạch Thị Sô Phia", "Kim Ngọc Hưởng", "Trần Thị Mỹ Duyên", "Nguyễn Văn Khuyến", "Huỳnh Quốc Việt"]


def test_known_tcvn3_and_vni_spellings():
    # as Excel shows cells typed in .VnTime (TCVN3) and VNI-Times fonts
    assert tcvn3_to_unicode("ThÞ trÊn Cµng Long") == "Thị trấn Càng Long"
    assert tcvn3_to_unicode("Tr\xadêng THCS X· NhÞ Long Phó") == "Trường THCS Xã Nhị Long Phú"
    assert tcvn3_to_unicode("§øc Mü") == "Đức Mỹ"
    assert vni_to_unicode("Tröôøng THCS Thò traán Caøng Long") == "Trường THCS Thị trấn Càng Long"
    assert vni_to_unicode("Vieät Nam") == "Việt Nam"
    assert vni_to_unicode("Ñöùc Myõ") == "Đức Mỹ"


@pytest.mark.parametrize("name", NAMES)
def test_round_trip_and_detection(name):
    assert decode_legacy(name).text == name and decode_legacy(name).encoding == "unicode"
    t = decode_legacy(unicode_to_tcvn3(name))
    assert (t.text, t.encoding) == (name, "tcvn3")
    v = decode_legacy(unicode_to_vni(name))
    assert (v.text, v.encoding) == (name, "vni")
    d = decode_legacy(unicodedata.normalize("NFD", name))
    assert d.text == name and d.normalised


def test_ascii_and_foreign_words_untouched():
    for s in ("Khmer", "THCS", "S01", "voc_intermediate", "29266", "Hoa"):
        assert decode_legacy(s).text == s and decode_legacy(s).encoding == "unicode"


def test_ambiguous_cell_follows_its_column():
    # "Phó" is valid Unicode and also TCVN3 for "Phú": alone it is kept, in a TCVN3 column it is converted
    alone, counts = decode_column(["Phó", "Phó Chủ tịch"])
    assert alone == ["Phó", "Phó Chủ tịch"] and counts["tcvn3"] == 0
    col, counts = decode_column(["Phó", "X· NhÞ Long Phó", "CÈm", 12, None])
    assert col == ["Phú", "Xã Nhị Long Phú", "Cẩm", 12, None]
    assert counts["tcvn3"] == 3


def test_nfc_and_fold():
    nfd = unicodedata.normalize("NFD", "Xã  Nhị\u00a0Long ")
    assert nfc(nfd) == "Xã Nhị Long"
    assert fold("XÃ NHỊ-LONG  Phú") == "xa nhi long phu"
    assert fold("Đức") == "duc"


def test_syllables():
    for w in ("trường", "nghiêng", "quyển", "giữa", "khuya", "Nhị", "gìn", "hoà"):
        assert is_syllable(w), w
    for w in ("khmer", "caứng", "trẻả", "ab"):
        assert not is_syllable(w), w


REGISTER = dict(zip(commune_crosswalk()["commune_code"], commune_crosswalk()["commune_name"]))


@pytest.mark.parametrize("typed,code", [
    ("Thị trấn Càng Long", "29266"), ("TT Càng Long", "29266"), ("thi tran cang long", "29266"),
    ("TT. Càng Long", "29266"), ("Càng Long", "29266"), ("X. Mỹ Cẩm", "29269"), ("xã my cam", "29269"),
    ("Mỹ  Cẩm", "29269"), ("Nhị Long Phú", "29299"), ("29302", "29302"), ("An Trường A", "29272"),
    ("Xa Duc My", "29305"),
])
def test_commune_names_match(typed, code):
    m = match_names([typed], REGISTER)[typed]
    assert (m.code, m.status) == (code, "matched")


def test_unmatched_and_ambiguous_names_are_never_guessed():
    m = match_names(["Xã Càng Long"], REGISTER)["Xã Càng Long"]
    # the prefix says commune (xã) but the register's Càng Long is a town (thị trấn): no match
    assert m.code is None and m.status == "unmatched"
    assert ("29266", "Thị trấn Càng Long") in m.candidates
    reg = {"S1": "Trường THCS Nhị Long", "S2": "Trường THPT Nhị Long"}
    m = match_names(["Nhị Long"], reg, kind="school")["Nhị Long"]
    assert m.status == "ambiguous" and m.code is None
    assert m.candidates == (("S1", "Trường THCS Nhị Long"), ("S2", "Trường THPT Nhị Long"))
    assert m.candidates_text() == "S1 (Trường THCS Nhị Long); S2 (Trường THPT Nhị Long)"
    assert match_names(["THCS Nhị Long"], reg, kind="school")["THCS Nhị Long"].code == "S1"
    assert match_names(["Trường THPT Nhi Long"], reg, kind="school")["Trường THPT Nhi Long"].code == "S2"


def test_ethnicity_other_groups_by_name_and_a_name_is_refused():
    """Vietnam's other ethnic groups import as 'other' in their usual spellings; a student's name typed in the
    column is refused (it used to pass as 'other'), and the message does not repeat it."""
    from evaluation.importer.cells import CellError, read_ethnicity

    for v in ("Tày", "dân tộc Tày", "Ê-đê", "Ê Đê", "Êđê", "H'Mông", "Mông", "Chăm", "Bru - Vân Kiều", "Khác", "THÁI"):
        assert read_ethnicity(v)[0] == "other", v
    assert read_ethnicity("Khơ-me")[0] == "khmer" and read_ethnicity("người Hoa")[0] == "hoa"
    for v in ("Nguyễn Văn An", "Lê Thị Mai", "abc", "12/03/2008"):
        with pytest.raises(CellError) as e:
            read_ethnicity(v)
        assert v not in str(e.value)
