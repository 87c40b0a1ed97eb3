"""What the columns, sheets and cells of a district workbook mean: headers, synonyms, code labels.

Every spelling is compared folded (:func:`evaluation.importer.vntext.fold`: no case, no
diacritics, no punctuation, one space), so "Số HS tốt nghiệp", "so hs tot nghiep" and
"SỐ HS  TỐT NGHIỆP" are one header. Beyond equal spellings a header is matched **by meaning**
(:func:`match_header`): its words with numbering removed ("(1)", "a)", "Cột 5") and the domain's
phrases abbreviated (:data:`ABBREVIATIONS`: giáo dục thường xuyên / bổ túc = GDTX, trung cấp =
TC...), in any order, then without the words that carry no meaning (:data:`FILLER_WORDS`: "Vào",
"Học", "Số", "HS"), then as a header holding a spelling's words and at most as many others. Each
way has a score; the best wins and a tie between two fields is no match (an error when the column
holds numbers). A header that means nothing known is logged; if its column holds numbers the
import stops and says how to map it (``--map "HEADER=FIELD"``, ``import_map.txt``).

Fields are the contract columns (``schools.school_id``...) plus import-only fields:
``school`` (a school name to be matched to its code), ``commune`` (a commune name), ``dest:CODE``
(a wide-layout column of one destination), ``total`` (a total column, checked then dropped),
``row_number`` (STT), ``note``, ``rate`` (a rate worked out from counts, not read), ``ignore``
(mapped out by the user), and the student list's direct identifiers ``person_name``,
``birth_date``, ``person_id`` (used for the pseudonymous key, then dropped) and other personal
columns ``personal_other`` (phone, address, parents: never read).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping

from .vntext import fold

# ------------------------------------------------------------------------------------------------
# Tables and their sheet names
# ------------------------------------------------------------------------------------------------
#: Table -> (template sheet name, other spellings of a sheet holding it).
SHEETS: dict[str, tuple[str, tuple[str, ...]]] = {
    "schools": ("Truong hoc", ("schools", "truong", "danh sach truong", "ds truong", "truong hoc")),
    "communes": ("Xa", ("communes", "xa", "xa thi tran", "danh sach xa", "don vi hanh chinh", "dia ban")),
    "graduates": ("Tot nghiep", ("graduates", "tot nghiep", "phan luong", "ket qua phan luong",
                                 "huong di sau tot nghiep", "hs tot nghiep", "so lieu tot nghiep")),
    "counseling": ("Tu van HN", ("counseling", "tu van", "tu van hn", "tu van huong nghiep",
                                 "giao vien tu van", "gv tu van", "huong nghiep")),
    "students": ("Hoc sinh", ("students", "hoc sinh", "danh sach hoc sinh", "ds hoc sinh", "ds hs", "hs")),
    "labour_demand": ("Nhu cau lao dong", ("labour demand", "labour_demand", "labor demand", "nhu cau lao dong",
                                           "khao sat doanh nghiep", "nhu cau tuyen dung")),
    "vocational_supply": ("Co so GDNN", ("vocational supply", "vocational_supply", "co so gdnn", "mang luoi gdnn",
                                         "tuyen sinh nghe", "dao tao nghe")),
}
#: The template's sheet names, in Vietnamese with diacritics.
SHEET_TITLES: dict[str, str] = {
    "schools": "Trường học", "communes": "Xã", "graduates": "Tốt nghiệp", "counseling": "Tư vấn HN",
    "students": "Học sinh", "labour_demand": "Nhu cầu lao động", "vocational_supply": "Cơ sở GDNN",
}
INSTRUCTIONS_SHEET = "Hướng dẫn"
#: Sheets that never hold data.
SKIP_SHEETS: tuple[str, ...] = ("huong dan", "instructions", "ghi chu", "notes", "danh muc", "lists", "codes")


def sheet_tables(name: str) -> list[str]:
    """The tables a sheet may hold, judged by its name: the one whose spelling the name is
    ("Tốt nghiệp 2019" -> graduates, years aside), else every table one of whose spellings is
    among the name's words ("DS HS tốt nghiệp THCS" -> students and graduates; the header then
    decides)."""
    f = _strip_years(fold(name))
    exact = [t for t, (_, sp) in SHEETS.items() if f in sp or f == fold(SHEET_TITLES[t])]
    if exact:
        return exact[:1]
    words = set(f.split())
    return [t for t, (_, sp) in SHEETS.items() if any(set(x.split()) <= words for x in sp)]


def sheet_table(name: str) -> str | None:
    """The one table a sheet's name says it holds, or ``None`` (no table, or several)."""
    ts = sheet_tables(name)
    return ts[0] if len(ts) == 1 else None


def _strip_years(f: str) -> str:
    import re

    return re.sub(r"\b(19|20)\d\d\b", " ", f).replace("  ", " ").strip()


# ------------------------------------------------------------------------------------------------
# Columns
# ------------------------------------------------------------------------------------------------
#: (table, field) -> (template header, other spellings). The template header is the first
#: spelling; the contract column name itself is always accepted.
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "schools": {
        "school_id": ("Mã trường", "ma truong", "ma so truong", "ma don vi", "school id", "ma"),
        "school_name": ("Tên trường", "ten truong", "truong", "don vi", "ten don vi", "school name", "ten"),
        "commune_code": ("Mã xã", "ma xa", "ma xa thi tran", "ma don vi hanh chinh"),
        "commune": ("Xã, thị trấn", "xa", "xa thi tran", "xa tt", "dia ban", "xa phuong", "ten xa", "commune"),
        "levels": ("Cấp học", "cap hoc", "cap", "level", "levels", "bac hoc"),
        "ethnic_boarding": ("Trường DTNT", "dtnt", "truong dtnt", "dan toc noi tru", "truong dan toc noi tru",
                            "ethnic boarding"),
    },
    "communes": {
        "commune_code": ("Mã xã", "ma xa", "ma xa thi tran", "ma don vi hanh chinh", "ma dvhc", "commune code"),
        "commune_name": ("Tên xã, thị trấn", "ten xa", "xa", "xa thi tran", "ten xa thi tran", "don vi hanh chinh",
                         "ten don vi", "commune", "commune name"),
        "district_name": ("Huyện", "huyen", "quan huyen", "district", "ten huyen"),
        "province_name": ("Tỉnh", "tinh", "tinh thanh pho", "province", "ten tinh"),
        "khmer_share": ("Tỷ lệ dân số Khmer", "ty le dan so khmer", "ty le khmer", "ty le nguoi khmer",
                        "ty le dan toc khmer", "khmer share", "khmer"),
        "disadvantaged": ("Vùng khó khăn", "vung kho khan", "xa kho khan", "dac biet kho khan", "vung dbkk",
                          "xa dbkk", "disadvantaged"),
        "merged_into_code": ("Mã xã sau sáp nhập", "ma xa sau sap nhap", "ma xa moi", "ma xa tu 1 7 2025"),
        "merged_into_name": ("Xã sau sáp nhập", "xa sau sap nhap", "xa moi", "ten xa moi", "xa tu 1 7 2025"),
    },
    "graduates": {
        "school_id": ("Mã trường", "ma truong", "ma so truong", "ma don vi", "school id"),
        "school": ("Tên trường", "ten truong", "truong", "don vi", "ten don vi", "truong thcs", "truong thpt"),
        "year": ("Năm tốt nghiệp", "nam tot nghiep", "nam", "khoa", "nam hoc", "year", "graduation year"),
        "level": ("Cấp học", "cap hoc", "cap", "level", "cap tot nghiep"),
        "sex": ("Giới tính", "gioi tinh", "sex", "gioi"),
        "ethnicity": ("Dân tộc", "dan toc", "ethnicity"),
        "destination": ("Hướng đi", "huong di", "huong di sau tot nghiep", "noi hoc tiep", "destination"),
        "students": ("Số học sinh", "so hoc sinh", "so hs", "so luong", "students", "so hs tot nghiep",
                     "so hoc sinh tot nghiep", "hs tot nghiep", "tn thcs", "tn thpt", "tot nghiep thcs",
                     "tot nghiep thpt", "so hs tn", "count"),
    },
    "counseling": {
        "school_id": ("Mã trường", "ma truong", "ma so truong", "ma don vi", "school id"),
        "school": ("Tên trường", "ten truong", "truong", "don vi", "ten don vi"),
        "year": ("Năm tốt nghiệp", "nam tot nghiep", "nam", "nam hoc", "year"),
        "counselors": ("Số GV tư vấn hướng nghiệp", "so gv tu van huong nghiep", "so gv tu van", "gv tu van",
                       "giao vien tu van huong nghiep", "so giao vien tu van", "gv lam cong tac tu van huong nghiep",
                       "gv tu van hn", "counselors"),
        "trained_counselors": ("Số GV đã qua đào tạo", "so gv da qua dao tao", "da qua dao tao", "da duoc dao tao",
                               "gv da duoc boi duong", "da boi duong", "so gv da boi duong", "trained",
                               "trained counselors", "gv tu van da qua dao tao", "trong do da qua dao tao",
                               "trong do da duoc dao tao", "trong do da boi duong", "trong do da duoc boi duong",
                               "so gv da duoc dao tao"),
        "sessions": ("Số buổi tư vấn", "so buoi tu van", "so buoi", "sessions", "so buoi tu van hn"),
        "students_counseled": ("Số HS được tư vấn cá nhân", "so hs duoc tu van ca nhan", "so hs duoc tu van",
                               "hs duoc tu van", "students counseled"),
    },
    "students": {
        "person_id": ("Mã học sinh", "ma hoc sinh", "ma hs", "ma so hs", "ma so hoc sinh", "ma dinh danh",
                      "so dinh danh", "so dinh danh ca nhan", "cccd", "cmnd", "can cuoc", "student key",
                      "student id", "id", "ma dinh danh hoc sinh"),
        "person_name": ("Họ và tên", "ho va ten", "ho ten", "ten hoc sinh", "ho va ten hoc sinh", "ho ten hs",
                        "name", "full name"),
        "birth_date": ("Ngày sinh", "ngay sinh", "ngay thang nam sinh", "ngay thang nam sinh hs", "nam sinh",
                       "date of birth", "dob", "birth date"),
        "school_id": ("Mã trường", "ma truong", "ma so truong", "school id"),
        "school": ("Trường", "truong", "ten truong", "don vi"),
        "year": ("Năm tốt nghiệp", "nam tot nghiep", "nam", "year", "khoa"),
        "level": ("Cấp học", "cap hoc", "cap", "level"),
        "sex": ("Giới tính", "gioi tinh", "sex", "gioi"),
        "female_mark": ("Nữ", "nu"),
        "ethnicity": ("Dân tộc", "dan toc", "ethnicity"),
        "poor_household": ("Hộ nghèo", "ho ngheo", "dien ho ngheo", "thuoc ho ngheo", "poor household", "ho ngheo x"),
        "residence_commune_code": ("Mã xã cư trú", "ma xa cu tru", "ma xa thuong tru"),
        "residence_commune": ("Xã cư trú", "xa cu tru", "xa thuong tru", "noi cu tru xa", "xa noi o"),
        "counseled": ("Được tư vấn cá nhân", "duoc tu van ca nhan", "duoc tu van", "tu van ca nhan", "counseled"),
        "destination": ("Hướng đi sau tốt nghiệp", "huong di", "huong di sau tot nghiep", "dang ky hoc",
                        "noi hoc tiep", "destination"),
        # contact and family details: personal data outside the contract, recognised so that they
        # are left out knowingly (never read, never shown)
        "personal_other": ("Số điện thoại", "so dien thoai", "dien thoai", "sdt", "so dt", "dt lien he", "email",
                           "dia chi", "dia chi thuong tru", "noi o", "cho o hien nay", "ho ten cha", "ho ten me",
                           "ho ten phu huynh", "phu huynh", "cha me", "nghe nghiep cha me", "so dien thoai phu huynh",
                           "noi sinh", "que quan", "ton giao"),
    },
    "labour_demand": {
        "survey_year": ("Năm khảo sát", "nam khao sat", "nam", "survey year"),
        "enterprise_id": ("Mã doanh nghiệp", "ma doanh nghiep", "ma dn", "enterprise id"),
        "commune_code": ("Mã xã", "ma xa"),
        "commune": ("Xã, thị trấn", "xa", "xa thi tran", "dia ban"),
        "sector": ("Ngành kinh tế (VSIC)", "nganh kinh te vsic", "nganh kinh te", "nganh vsic", "vsic", "sector"),
        "trade": ("Nghề", "nghe", "ten nghe", "vi tri viec lam", "trade"),
        "qualification": ("Trình độ yêu cầu", "trinh do yeu cau", "trinh do", "qualification"),
        "workers_needed": ("Số lao động cần tuyển", "so lao dong can tuyen", "so lao dong can", "nhu cau",
                           "so luong can tuyen", "workers needed"),
    },
    "vocational_supply": {
        "year": ("Năm", "nam", "year"),
        "institution_id": ("Mã cơ sở", "ma co so", "ma co so gdnn", "institution id"),
        "institution_name": ("Tên cơ sở", "ten co so", "co so gdnn", "co so dao tao", "institution name"),
        "commune_code": ("Mã xã", "ma xa"),
        "commune": ("Xã, thị trấn", "xa", "xa thi tran", "dia ban"),
        "trade": ("Nghề đào tạo", "nghe dao tao", "nghe", "trade"),
        "level": ("Trình độ", "trinh do", "trinh do dao tao", "level"),
        "places": ("Chỉ tiêu tuyển sinh", "chi tieu tuyen sinh", "chi tieu", "places"),
        "enrolled": ("Số tuyển mới", "so tuyen moi", "tuyen moi", "da tuyen", "enrolled"),
        "graduated": ("Số tốt nghiệp", "so tot nghiep", "tot nghiep", "graduated"),
        "employed_12m": ("Có việc làm sau 12 tháng", "co viec lam sau 12 thang", "co viec lam", "employed 12m"),
    },
}

#: Fields every table may have that carry no data.
COMMON_FIELDS: dict[str, tuple[str, ...]] = {
    "row_number": ("STT", "stt", "so tt", "so thu tu", "tt", "no"),
    "total": ("Tổng số", "tong so", "tong", "tong cong", "cong", "total", "tong so hs", "tong so hs tot nghiep",
              "tong so hoc sinh tot nghiep", "tong so tot nghiep"),
    "note": ("Ghi chú", "ghi chu", "note", "notes"),
    # a rate or percentage worked out from the counts beside it ("Tỷ lệ %", "Tỷ lệ vào THPT"): known,
    # logged, not read (the review computes its own rates from the counts)
    "rate": ("Tỷ lệ", "ty le", "ty le %", "%", "ti le", "rate", "percent", "phan tram"),
}

#: Destination columns of a wide layout, and destination cells of a long one: folded spellings.
DESTINATION_WORDS: dict[str, tuple[str, ...]] = {
    "thpt": ("thpt", "hoc thpt", "vao thpt", "vao lop 10", "lop 10", "lop 10 thpt", "hoc tiep thpt", "trung hoc pho thong",
             "thpt cong lap", "general upper secondary", "vao lop 10 thpt"),
    "gdtx": ("gdtx", "hoc gdtx", "giao duc thuong xuyen", "bo tuc thpt", "gdtx cap thpt", "hoc bo tuc",
             "giao duc thuong xuyen cap thpt", "continuing education"),
    "voc_intermediate": ("trung cap", "tc", "hoc trung cap", "trung cap nghe", "tcn", "9", "trung cap 9",
                         "trung cap ke ca 9", "hoc nghe trung cap", "vocational intermediate"),
    "voc_elementary": ("so cap", "sc", "hoc so cap", "so cap nghe", "hoc nghe so cap", "nghe ngan han",
                       "vocational elementary"),
    "voc_college": ("cao dang", "cd", "hoc cao dang", "cao dang nghe", "cdn", "vocational college"),
    "university": ("dai hoc", "dh", "hoc dai hoc", "university"),
    "employment": ("di lam", "lao dong", "viec lam", "tham gia lao dong", "di lam viec", "employment",
                   "lao dong san xuat"),
    "other": ("khac", "other", "huong khac"),
    "unknown": ("khong ro", "chua ro", "khong nam duoc", "chua nam duoc", "unknown", "khong xac dinh"),
}

#: Total / subtotal rows: the folded label cell starts with one of these.
TOTAL_WORDS: tuple[str, ...] = ("tong cong", "tong so", "tong", "cong", "toan huyen", "total", "sum", "grand total")
#: Note rows below or inside a table: the folded first text cell starts with one of these.
NOTE_WORDS: tuple[str, ...] = ("ghi chu", "nguon", "nguoi lap", "nguoi lap bieu", "thu truong", "hieu truong",
                               "truong phong", "ky ten", "note", "source", "luu y", "chu thich", "xac nhan",
                               "giam doc", "pho truong phong")

LEVEL_WORDS: dict[str, tuple[str, ...]] = {
    "THCS": ("thcs", "trung hoc co so", "lop 9", "9", "cap 2", "cap ii"),
    "THPT": ("thpt", "trung hoc pho thong", "lop 12", "12", "cap 3", "cap iii"),
}
SCHOOL_LEVEL_WORDS: dict[str, tuple[str, ...]] = {
    "THCS": ("thcs", "trung hoc co so"),
    "THPT": ("thpt", "trung hoc pho thong"),
    "THCS,THPT": ("thcs thpt", "thcs va thpt", "thpt thcs", "lien cap", "thcs va thpt lien cap", "thcs, thpt"),
}
SEX_WORDS: dict[str, tuple[str, ...]] = {"F": ("f", "nu", "female", "gai"), "M": ("m", "nam", "male", "trai")}
ETHNICITY_WORDS: dict[str, tuple[str, ...]] = {
    "kinh": ("kinh", "viet", "nguoi kinh"),
    "khmer": ("khmer", "kho me", "khome", "kho-me", "khmer krom", "dan toc khmer", "nguoi khmer"),
    "hoa": ("hoa", "nguoi hoa", "dan toc hoa"),
    "unknown": ("khong ro", "chua ro", "unknown"),
}
#: The other 51 of Vietnam's 54 ethnic groups (the General Statistics Office's list, Decision 121-TCTK/PPCĐ),
#: with common spellings; folded and without spaces when matched ("Ê-đê", "Ê Đê", "Êđê" all fit). They import
#: as ``other``; a text that is none of them (a student's name typed in the column) is refused.
OTHER_ETHNIC_GROUPS: tuple[str, ...] = (
    "Tày", "Thái", "Mường", "Nùng", "Mông", "H'Mông", "Hmông", "Mèo", "Dao", "Gia Rai", "Jrai", "Ê Đê", "Ede",
    "Ba Na", "Bahnar", "Xơ Đăng", "Sedang", "Sán Chay", "Cao Lan", "Sán Chỉ", "Cơ Ho", "Koho", "Chăm", "Chàm",
    "Cham", "Sán Dìu", "Hrê", "Mnông", "M'Nông", "Ra Glai", "Raglai", "Xtiêng", "Stiêng", "Bru Vân Kiều",
    "Vân Kiều", "Bru", "Thổ", "Giáy", "Cơ Tu", "Katu", "Gié Triêng", "Giẻ Triêng", "Mạ", "Khơ Mú", "Khmu", "Co",
    "Cor", "Tà Ôi", "Ta Oi", "Chơ Ro", "Kháng", "Xinh Mun", "Hà Nhì", "Chu Ru", "Lào", "La Chí", "La Ha", "Phù Lá",
    "La Hủ", "Lự", "Lô Lô", "Chứt", "Mảng", "Pà Thẻn", "Cơ Lao", "Cống", "Bố Y", "Si La", "Pu Péo", "Brâu", "Ơ Đu",
    "Rơ Măm", "Ngái", "dân tộc khác", "khác", "other", "nước ngoài", "người nước ngoài", "foreign")
BOOL_WORDS: dict[bool, tuple[str, ...]] = {
    True: ("true", "1", "yes", "x", "co", "dung", "v", "y"),
    False: ("false", "0", "no", "khong", "sai", "n"),
}
QUALIFICATION_WORDS: dict[str, tuple[str, ...]] = {
    "none": ("none", "khong", "khong yeu cau", "lao dong pho thong", "khong yeu cau bang cap"),
    "elementary": ("elementary", "so cap"), "intermediate": ("intermediate", "trung cap"),
    "college": ("college", "cao dang"), "university": ("university", "dai hoc", "dai hoc tro len"),
}
VOC_LEVEL_WORDS: dict[str, tuple[str, ...]] = {
    "elementary": ("elementary", "so cap"), "intermediate": ("intermediate", "trung cap"),
    "college": ("college", "cao dang"),
}


#: VSIC 2018 sections (Quyết định 27/2018/QĐ-TTg): code -> (Vietnamese, English) name. The
#: template's drop-down shows "F - Xây dựng"; the importer reads the code, the label or both.
SECTOR_LABELS: dict[str, tuple[str, str]] = {
    "A": ("Nông nghiệp, lâm nghiệp và thủy sản", "Agriculture, forestry and fishing"),
    "B": ("Khai khoáng", "Mining and quarrying"),
    "C": ("Công nghiệp chế biến, chế tạo", "Manufacturing"),
    "D": ("Sản xuất và phân phối điện, khí đốt, nước nóng, hơi nước và điều hòa không khí",
          "Electricity, gas, steam and air conditioning supply"),
    "E": ("Cung cấp nước; hoạt động quản lý và xử lý rác thải, nước thải",
          "Water supply; sewerage, waste management and remediation"),
    "F": ("Xây dựng", "Construction"),
    "G": ("Bán buôn và bán lẻ; sửa chữa ô tô, mô tô, xe máy và xe có động cơ khác",
          "Wholesale and retail trade; repair of motor vehicles and motorcycles"),
    "H": ("Vận tải kho bãi", "Transportation and storage"),
    "I": ("Dịch vụ lưu trú và ăn uống", "Accommodation and food service activities"),
    "J": ("Thông tin và truyền thông", "Information and communication"),
    "K": ("Hoạt động tài chính, ngân hàng và bảo hiểm", "Financial and insurance activities"),
    "L": ("Hoạt động kinh doanh bất động sản", "Real estate activities"),
    "M": ("Hoạt động chuyên môn, khoa học và công nghệ", "Professional, scientific and technical activities"),
    "N": ("Hoạt động hành chính và dịch vụ hỗ trợ", "Administrative and support service activities"),
    "O": ("Hoạt động của Đảng Cộng sản, tổ chức chính trị - xã hội, quản lý Nhà nước, an ninh quốc phòng; bảo đảm "
          "xã hội bắt buộc", "Public administration and defence; compulsory social security"),
    "P": ("Giáo dục và đào tạo", "Education"),
    "Q": ("Y tế và hoạt động trợ giúp xã hội", "Human health and social work activities"),
    "R": ("Nghệ thuật, vui chơi và giải trí", "Arts, entertainment and recreation"),
    "S": ("Hoạt động dịch vụ khác", "Other service activities"),
    "T": ("Hoạt động làm thuê các công việc trong các hộ gia đình, sản xuất sản phẩm vật chất và dịch vụ tự tiêu "
          "dùng của hộ gia đình", "Activities of households as employers and for own use"),
    "U": ("Hoạt động của các tổ chức và cơ quan quốc tế", "Activities of extraterritorial organizations and bodies"),
}


def sector_label(code: str) -> str:
    """The template's drop-down text of a VSIC section: ``"F - Xây dựng"``."""
    return f"{code} - {SECTOR_LABELS[code][0]}"


SECTOR_INDEX: dict[str, str] = {}
for _c, (_vi, _en) in SECTOR_LABELS.items():
    for _s in (_c, _vi, _en, sector_label(_c), f"{_c} - {_en}"):
        SECTOR_INDEX.setdefault(fold(_s), _c)


def _index(words: dict) -> dict[str, object]:
    out: dict[str, object] = {}
    for code, spellings in words.items():
        out[fold(str(code))] = code
        for s in spellings:
            out.setdefault(fold(s), code)
    return out


DESTINATION_INDEX = _index(DESTINATION_WORDS)
LEVEL_INDEX = _index(LEVEL_WORDS)
SCHOOL_LEVEL_INDEX = _index(SCHOOL_LEVEL_WORDS)
SEX_INDEX = _index(SEX_WORDS)
ETHNICITY_INDEX = _index(ETHNICITY_WORDS)
#: ``OTHER_ETHNIC_GROUPS`` folded, spaces removed (the key ``cells.read_ethnicity`` matches).
OTHER_ETHNIC_KEYS = frozenset(fold(g).replace(" ", "") for g in OTHER_ETHNIC_GROUPS)
BOOL_INDEX = {fold(s): v for v, ss in BOOL_WORDS.items() for s in ss}
QUALIFICATION_INDEX = _index(QUALIFICATION_WORDS)
VOC_LEVEL_INDEX = _index(VOC_LEVEL_WORDS)


def _add_labels() -> None:
    """Accept the shipped Vietnamese and English labels of every code too."""
    from ..reference import labels

    lab = labels()
    for kind, index in (("destination", DESTINATION_INDEX), ("sex", SEX_INDEX), ("ethnicity", ETHNICITY_INDEX),
                        ("qualification", QUALIFICATION_INDEX), ("voc_level", VOC_LEVEL_INDEX)):
        for code, vi, en in lab.loc[lab["kind"] == kind, ["code", "label_vi", "label_en"]].itertuples(index=False):
            for s in (vi, en):
                index.setdefault(fold(s), code)


_add_labels()
#: (destination code, its shipped Vietnamese and English labels), matched as header spellings too.
_DEST_LABELS: tuple[tuple[str, str], ...] = ()


def _dest_labels() -> tuple[tuple[str, str], ...]:
    from ..reference import labels

    lab = labels()
    d = lab.loc[lab["kind"] == "destination", ["code", "label_vi", "label_en"]]
    return tuple((c, s) for c, vi, en in d.itertuples(index=False) for s in (vi, en))


_DEST_LABELS = _dest_labels()


def field_index(table: str) -> dict[str, str]:
    """Folded header -> field for ``table`` (contract columns, import fields, common fields)."""
    out: dict[str, str] = {}
    for fld, spellings in COLUMNS[table].items():
        out[fold(fld)] = fld
        for s in spellings:
            out.setdefault(fold(s), fld)
    for fld, spellings in COMMON_FIELDS.items():
        for s in spellings:
            out.setdefault(fold(s), fld)
    return out


# ------------------------------------------------------------------------------------------------
# Matching a header by meaning
# ------------------------------------------------------------------------------------------------
#: Phrases of the domain and their abbreviation (folded), longest first: a header and a spelling
#: mean the same when their abbreviated words do.
ABBREVIATIONS: tuple[tuple[str, str], ...] = tuple(sorted((
    ("giao duc thuong xuyen", "gdtx"), ("trung tam gdtx", "gdtx"), ("trung tam gdnn gdtx", "gdtx"),
    ("bo tuc van hoa", "gdtx"), ("bo tuc", "gdtx"), ("btvh", "gdtx"),
    ("trung hoc pho thong", "thpt"), ("trung hoc co so", "thcs"),
    ("trung cap", "tc"), ("so cap", "sc"), ("cao dang", "cd"), ("dai hoc", "dh"),
    ("so hoc sinh", "so hs"), ("hoc sinh", "hs"), ("tong so", "tong"), ("tong cong", "tong"),
    ("giao vien", "gv"), ("huong nghiep", "hn"), ("tot nghiep", "tn"), ("so luong", "sl"),
    ("nghe nghiep", "nghe"), ("lao dong", "ld"), ("viec lam", "vl"),
), key=lambda p: -len(p[0])))
#: Words that carry no meaning of their own in a header ("Vào", "Học", "Số", "Số HS", "Các").
FILLER_WORDS: frozenset[str] = frozenset({"vao", "hoc", "tiep", "so", "sl", "hs", "em", "cac", "nhung", "duoc",
                                          "cua", "trong", "do", "nganh"})
_NUMBERING_HEAD = re.compile(r"^\s*(?:\(?\s*(?:\d{1,2}|[a-zA-Z]|[IVXivx]{1,4})\s*[).]|\d{1,2}\s*[-/])\s+")
_NUMBERING_ANY = re.compile(r"\(\s*(?:\d{1,2}|[a-zA-Z])\s*\)|\(\s*\d{1,2}\s*\)\s*=\s*[()0-9+\s-]*")
_YEAR_PHRASE = re.compile(r"\b(?:nam hoc |nam |khoa |nh )?(?:19|20)\d\d(?: (?:19|20)\d\d)?\b")
_COLUMN_NO = re.compile(r"\b(?:cot|col|column)\s*\d{1,3}\b")


def _strip_numbering(text: str) -> str:
    """"(1) Số HS", "a) Vào THPT", "Số HS (5)", "Cột 5 - Trung cấp" -> the header words alone."""
    t = _NUMBERING_ANY.sub(" ", str(text))
    t = _NUMBERING_HEAD.sub("", t)
    return t


def canonical(text: str) -> tuple[str, ...]:
    """A header's words folded, numbering removed and domain phrases abbreviated, in order."""
    f = " " + fold(_strip_numbering(text)) + " "
    f = _COLUMN_NO.sub(" ", f)
    f = _YEAR_PHRASE.sub(" ", f)
    for long, short in ABBREVIATIONS:
        f = f.replace(f" {long} ", f" {short} ")
        f = f.replace(f" {long} ", f" {short} ")  # overlapping occurrences
    return tuple(f.split())


def content(words: tuple[str, ...]) -> frozenset[str]:
    """The words that carry meaning (filler words dropped)."""
    return frozenset(w for w in words if w not in FILLER_WORDS)


@dataclass(frozen=True)
class HeaderMatch:
    """How a header was read: ``field`` (``None``: unknown or ambiguous), ``how`` (the words
    that decided), ``score`` (4 mapped by the user, 3 exact spelling, 2 same words in any order, 1
    same meaningful words, 0 holds a spelling's words), ``candidates`` (the tied fields of an
    ambiguous header)."""

    field: str | None
    how: str
    score: int = 0
    candidates: tuple[str, ...] = ()

    @property
    def ambiguous(self) -> bool:
        return len(self.candidates) > 1


SCORE_WORDS = {4: "mapped by the user", 3: "exact spelling", 2: "same words in another order or abbreviated",
               1: "same meaningful words", 0: "holds the meaningful words of a known header"}


@lru_cache(maxsize=None)
def _spellings(table: str) -> tuple[tuple[str, str, tuple[str, ...], frozenset[str]], ...]:
    """(field, spelling, canonical words, content words) of every spelling of ``table``."""
    out = []
    for fld, sp in COLUMNS[table].items():
        for s in (fld,) + sp:
            out.append((fld, s))
    for fld, sp in COMMON_FIELDS.items():
        out += [(fld, s) for s in sp]
    if table == "graduates":
        for code, sp in DESTINATION_WORDS.items():
            out += [(f"dest:{code}", s) for s in sp if not s.isdigit()]
        for code, s in _DEST_LABELS:
            out.append((f"dest:{code}", s))
    rows = []
    for fld, s in out:
        w = canonical(s)
        rows.append((fld, s, w, content(w)))
    return tuple(rows)


def _fold_map(mapping: Mapping[str, str] | None) -> dict[tuple[str, ...], str]:
    return {canonical(k): v for k, v in (mapping or {}).items()}


def match_header(table: str, parts: list[str], mapping: Mapping[str, str] | None = None) -> HeaderMatch:
    """See :func:`_match_header` (cached: a workbook repeats its headers across sheets and rows)."""
    return _match_cached(table, tuple(parts), tuple(sorted(mapping.items())) if mapping else ())


@lru_cache(maxsize=65536)
def _match_cached(table: str, parts: tuple[str, ...], mapping: tuple[tuple[str, str], ...]) -> HeaderMatch:
    return _match_header(table, list(parts), dict(mapping) if mapping else None)


def _match_header(table: str, parts: list[str], mapping: Mapping[str, str] | None = None) -> HeaderMatch:
    """The field a column header means, from its header cells top to bottom (merged parents
    repeated), scored. Tried as the lowest cell, then all cells joined, then the top cell; at each
    try the best score wins: 4 mapped by the user (``--map``), 3 an exact spelling (case, accents,
    spacing and punctuation aside), 2 the same words in any order with the domain's abbreviations
    (GDTX = giáo dục thường xuyên = bổ túc, TC = trung cấp, SC, CĐ...), 1 the same meaningful words
    ("Vào", "Học", "Số", "Số HS" carry none), 0 the header holds a spelling's meaningful words and
    at most as many others (the largest share wins). Two fields at the best score: ambiguous (no
    field, ``candidates`` lists them). A header naming a destination is ``dest:CODE`` in ``graduates``."""
    texts = [p for p in parts if p and fold(_strip_numbering(p))]
    if not texts:
        return HeaderMatch(None, "empty header")
    tries = list(dict.fromkeys([texts[-1], " ".join(dict.fromkeys(texts)), texts[0]]))
    umap = _fold_map(mapping)
    idx = field_index(table)
    for t in tries:
        w = canonical(t)
        if umap and w in umap:
            fld = map_target(table, umap[w])
            if fld is not None:
                return HeaderMatch(fld, f"{t} = {umap[w]}", 4)
        f = fold(t)
        if table == "graduates" and f in DESTINATION_INDEX and f not in idx:
            return HeaderMatch(f"dest:{DESTINATION_INDEX[f]}", t, 3)
        if f in idx:
            return HeaderMatch(idx[f], t, 3)
        if table == "graduates" and f in DESTINATION_INDEX:
            return HeaderMatch(f"dest:{DESTINATION_INDEX[f]}", t, 3)
        f2 = fold(_strip_numbering(t))
        if f2 != f and f2 in idx:
            return HeaderMatch(idx[f2], t, 3)
        if f2 != f and table == "graduates" and f2 in DESTINATION_INDEX:
            return HeaderMatch(f"dest:{DESTINATION_INDEX[f2]}", t, 3)
        c = content(w)
        for score, same in ((2, lambda row: sorted(row[2]) == sorted(w)),
                            (1, lambda row: bool(c) and row[3] == c)):
            hits: dict[str, str] = {}
            for row in _spellings(table):
                if same(row):
                    hits.setdefault(row[0], row[1])
            if len(hits) == 1:
                fld, s = next(iter(hits.items()))
                return HeaderMatch(fld, f"{t} = {s}", score)
            if len(hits) > 1:
                return HeaderMatch(None, t, score, tuple(hits))
        # a header holding a spelling's meaningful words and little else ("Số HS tốt nghiệp THCS
        # năm 2019"): the largest share of the header's words wins; a tie is ambiguous
        if c:
            best: dict[str, tuple[float, str]] = {}
            for fld, sp, _w, sc in _spellings(table):
                if sc and sc <= c and not any(x.isdigit() for x in sc):
                    share = len(sc) / len(c)
                    if share >= 0.5 and share > best.get(fld, (0.0, ""))[0]:
                        best[fld] = (share, sp)
            if best:
                top = max(v[0] for v in best.values())
                tied = [f for f, v in best.items() if v[0] == top]
                if len(tied) == 1:
                    return HeaderMatch(tied[0], f"{t} ⊇ {best[tied[0]][1]}", 0, ())
                return HeaderMatch(None, t, 0, tuple(tied))
    return HeaderMatch(None, texts[-1])


#: Words a user may map a header to besides the table's fields ("ignore": leave it out knowingly).
IGNORE_WORDS: tuple[str, ...] = ("ignore", "bo qua", "khong doc", "skip")


def map_choices(table: str) -> list[str]:
    """What ``--map "HEADER=FIELD"`` accepts for ``table``: its fields, destination codes (wide
    graduates sheets), ``total``, ``note`` and ``ignore``."""
    out = [f for f in COLUMNS[table] if f not in ("person_name", "person_id", "birth_date", "female_mark",
                                                   "personal_other")]
    if table == "graduates":
        out += list(DESTINATION_WORDS)
    return out + ["total", "note", "ignore"]


def map_target(table: str, target: str) -> str | None:
    """The field ``target`` (from ``--map``) names in ``table``: a field or contract column, a
    destination code or label (``dest:CODE`` in graduates), ``total``, ``note``, ``ignore``;
    ``None`` when it names nothing of this table."""
    f = fold(target)
    if f in IGNORE_WORDS:
        return "ignore"
    for fld in list(COLUMNS[table]) + list(COMMON_FIELDS):
        if f == fold(fld):
            return fld
    if table == "graduates":
        code = DESTINATION_INDEX.get(f) or DESTINATION_INDEX.get(f.replace(" ", "_"))
        if code is None and f.startswith("dest "):
            code = DESTINATION_INDEX.get(f[5:]) or DESTINATION_INDEX.get(f[5:].replace(" ", "_"))
        if code is not None:
            return f"dest:{code}"
    m = match_header(table, [target])
    return m.field if m.score >= 2 else None


def header_field(table: str, parts: list[str], mapping: Mapping[str, str] | None = None) -> tuple[str | None, str]:
    """``(field, how)`` of :func:`match_header` (``field`` ``None`` for an unknown header)."""
    m = match_header(table, parts, mapping)
    return m.field, m.how


def template_columns(table: str) -> list[tuple[str, str]]:
    """(contract column, Vietnamese template header) for the template sheet of ``table``."""
    from ..contract import TABLE_SPECS

    out = []
    for spec in TABLE_SPECS[table]:
        spellings = COLUMNS[table].get(spec.name)
        out.append((spec.name, spellings[0] if spellings else spec.name))
    return out
