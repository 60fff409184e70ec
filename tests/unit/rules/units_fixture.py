"""A small versioned unit directory across 1 July 2025, shared by the rule tests.

- Two communes of the former district H44.D04 (Cẩm Khê) merge into X01 (Xã Cẩm Khê);
  a third becomes X02 on 1 July 2025 and is renamed X03 on 1 January 2026.
- The district's People's Committee H44.34 is dissolved: no successor.
- Sở Giao thông vận tải (H44.09) merges into Sở Xây dựng (H44.20) on 1 March 2025.
- Phường Thanh Miếu (X04) is grouped by its one-stop branch B01, not a former district.
- Sở Y tế comes in the old shape (valid always, area = its district "Cấp tỉnh").
- C1 and C2 name each other as successors (a broken directory).
"""

from __future__ import annotations

from schemas.units import UnitDirectory

D04 = {"area_code": "H44.D04", "area_name": "Huyện Cẩm Khê"}
ROWS = [
    {"code": "H44.34", "name": "UBND huyện Cẩm Khê", "kind": "district_unit", **D04,
     "valid_to": "2025-07-01"},
    {"code": "H44.125", "name": "UBND thị trấn Cẩm Khê", "kind": "commune", **D04,
     "valid_to": "2025-07-01", "successor": "X01"},
    {"code": "H44.126", "name": "UBND xã Phú Khê", "kind": "commune", **D04,
     "valid_to": "2025-07-01", "successor": "X01"},
    {"code": "H44.127", "name": "UBND xã Tình Cương", "kind": "commune", **D04,
     "valid_to": "2025-07-01", "successor": "X02"},
    {"code": "X01", "name": "UBND xã Cẩm Khê", "kind": "commune", **D04,
     "valid_from": "2025-07-01"},
    {"code": "X02", "name": "UBND xã Tình Cương", "kind": "commune", **D04,
     "valid_from": "2025-07-01", "valid_to": "2026-01-01", "successor": "X03"},
    {"code": "X03", "name": "UBND xã Hương Lung", "kind": "commune", **D04,
     "valid_from": "2026-01-01"},
    {"code": "X04", "name": "UBND phường Thanh Miếu", "kind": "commune",
     "area": {"code": "B01", "name": "Chi nhánh Trung tâm Phục vụ hành chính công số 1"},
     "valid_from": "2025-07-01"},
    {"code": "H44.09", "name": "Sở Giao thông vận tải", "kind": "department",
     "valid_to": "2025-03-01", "successor": "H44.20"},
    {"code": "H44.20", "name": "Sở Xây dựng", "kind": "department", "valid_from": "2025-03-01"},
    {"agency_code": "H44.17", "agency_name": "Sở Y tế", "level": "province",
     "district_code": "H44.D00", "district_name": "Cấp tỉnh"},
    {"code": "C1", "name": "Đơn vị vòng 1", "kind": "commune", "valid_to": "2024-01-01",
     "successor": "C2"},
    {"code": "C2", "name": "Đơn vị vòng 2", "kind": "commune", "valid_to": "2024-01-01",
     "successor": "C1"},
]  # fmt: skip

DIRECTORY = UnitDirectory.from_rows(ROWS)
