import shutil
from pathlib import Path

import pytest

from gateway.domain.errors import RoutingConfigError
from gateway.domain.petition import Kind, SenderType
from gateway.routing_config import default_config_dir, load_config

pytestmark = pytest.mark.unit

EXPECTED = {
    "VIEC_LAM": "CVL",
    "GIAO_DUC_NGHE_NGHIEP": "TCGDNN",
    "LAO_DONG_TIEN_LUONG": "VLDTL",
    "BAO_HIEM_XA_HOI": "VBHXH",
    "AN_TOAN_VE_SINH_LAO_DONG": "CATLD",
    "NGUOI_CO_CONG": "CNCC",
    "BAO_TRO_XA_HOI": "CBTXH",
    "TRE_EM": "CTE",
    "BINH_DANG_GIOI": "VBDG",
    "PHONG_CHONG_TE_NAN_XA_HOI": "CPCTNXH",
}


def test_default_config_models_molisa_with_ten_fields() -> None:
    config = load_config()
    assert config.ministry.organ_id == "000.00.00.G07"
    assert config.ministry.name == "Bộ Lao động - Thương binh và Xã hội"
    assert set(config.routing.fields) == set(EXPECTED)
    assert config.routing.triage == "VPB"
    assert config.routing.units["VPB"].name == "Văn phòng Bộ"


@pytest.mark.parametrize(("field", "unit"), sorted(EXPECTED.items()))
def test_each_field_goes_to_its_unit(field: str, unit: str) -> None:
    routing = load_config().routing
    assert routing.route(field, Kind.PHAN_ANH, SenderType.CA_NHAN).code == unit
    assert routing.route(field, Kind.PHAN_ANH, SenderType.CA_NHAN).queue == f"pakn.unit.{unit}"


def test_deputies_petitions_go_to_the_office_whatever_the_field() -> None:
    routing = load_config().routing
    assert routing.route("VIEC_LAM", Kind.DBQH, SenderType.DAI_BIEU).code == "VPB"
    # the same field from a citizen still goes to the field's unit
    assert routing.route("VIEC_LAM", Kind.KIEN_NGHI, SenderType.CA_NHAN).code == "CVL"


def test_unmatched_goes_to_triage() -> None:
    routing = load_config().routing
    assert routing.route(None, Kind.HOI_DAP, SenderType.CA_NHAN).code == "VPB"
    assert routing.route("KHONG_CO", Kind.PHAN_ANH, SenderType.TO_CHUC).code == "VPB"


def copy_config(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(default_config_dir(), target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def test_a_route_change_is_a_config_edit(tmp_path: Path) -> None:
    directory = copy_config(tmp_path)
    routing_file = directory / "routing.yaml"
    routing_file.write_text(
        routing_file.read_text(encoding="utf-8").replace(
            "{fields: [TRE_EM], unit: CTE}", "{fields: [TRE_EM], unit: CBTXH}"
        ),
        encoding="utf-8",
    )
    routing = load_config(directory).routing
    assert routing.route("TRE_EM", Kind.PHAN_ANH, SenderType.CA_NHAN).code == "CBTXH"


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("routing.yaml", "unit: CVL}", "unit: NOPE}", "unknown unit 'NOPE'"),
        ("routing.yaml", "fields: [VIEC_LAM]", "fields: [VIEC_LAMM]", "unknown field 'VIEC_LAMM'"),
        ("routing.yaml", "kinds: [DBQH]", "kinds: [DBQHX]", "DBQHX"),
        ("units.yaml", "triage: VPB", "triage: XYZ", "triage unit 'XYZ'"),
        ("units.yaml", "queue: pakn.unit.CVL", "queue: other.CVL", "queue must be 'pakn.unit.CVL'"),
        ("units.yaml", "{code: CTE,", "{code: CVL,", "duplicate unit codes: CVL"),
        ("fields.yaml", "fields:", "fieldz:", "missing or malformed"),
        ("units.yaml", "units:", "units: [\n", "not valid YAML"),
    ],
)
def test_bad_config_is_refused_with_a_clear_error(
    tmp_path: Path, file: str, old: str, new: str, message: str
) -> None:
    directory = copy_config(tmp_path)
    path = directory / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(RoutingConfigError) as info:
        load_config(directory)
    assert message in str(info.value)
