"""`schemas` finds its contract files wherever the package is imported from, even from a zip."""

from __future__ import annotations

import importlib
import sys
import zipfile
from pathlib import Path

import pytest
import zeep

import schemas

pytestmark = pytest.mark.unit


def test_paths_point_at_the_shipped_files_side_by_side() -> None:
    assert schemas.xsd_path().is_file()
    assert schemas.ministry_wsdl_path().is_file()
    assert schemas.national_wsdl_path().is_file()
    assert {
        schemas.xsd_path().parent,
        schemas.ministry_wsdl_path().parent,
        schemas.national_wsdl_path().parent,
    } == {schemas.schema_dir()}


def test_operation_soap_action_is_namespace_hash_name() -> None:
    op = schemas.MINISTRY_OPERATIONS[0]
    assert op == ("SubmitPetition", "PetitionMessage", "Receipt")
    assert op.soap_action == "urn:pakn:exchange:1#SubmitPetition"


def test_package_imported_from_a_zip_materialises_its_files_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A copy of the package under another name, so the real `schemas` module is left alone.
    name = "pakn_schemas_zipped"
    archive = tmp_path / "contract.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for source in Path(schemas.__file__).parent.iterdir():
            if source.suffix in {".py", ".xsd", ".wsdl"}:
                zf.write(source, f"{name}/{source.name}")
    monkeypatch.syspath_prepend(str(archive))
    try:
        zipped = importlib.import_module(name)
        directory = zipped.schema_dir()
        assert directory != schemas.schema_dir()
        assert directory.is_dir()
        assert sorted(p.name for p in directory.iterdir()) == sorted(
            [schemas.XSD_FILE, schemas.MINISTRY_WSDL_FILE, schemas.NATIONAL_WSDL_FILE]
        )
        assert zipped.schema_dir() is directory  # materialised once per process
        client = zeep.Client(str(zipped.national_wsdl_path()), settings=zeep.Settings(strict=True))
        assert (
            "ListPetitions"
            in client.wsdl.services["NationalExchange"].ports["NationalExchangePort"].binding.all()
        )
    finally:
        sys.modules.pop(name, None)
