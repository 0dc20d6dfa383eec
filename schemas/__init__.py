"""The contract files of the national exchange (DESIGN.md §2), shipped as package data.

- `pakn-exchange-1.xsd`: every message element, namespace `urn:pakn:exchange:1`.
- `ministry-exchange.wsdl`: `MinistryExchange`, the service the gateway exposes at `/soap/pakn`.
- `national-exchange.wsdl`: `NationalExchange`, the service the national portal (and its simulator) exposes.

The WSDLs import the XSD by the relative `schemaLocation="pakn-exchange-1.xsd"`, so the three files
must sit in one directory; `schema_dir()` guarantees that even when the package is imported from a
zip. The operation tables below are the Python view of the WSDLs; a unit test keeps them equal.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import NamedTuple

NAMESPACE = "urn:pakn:exchange:1"
DSIG_NAMESPACE = "http://www.w3.org/2000/09/xmldsig#"

XSD_FILE = "pakn-exchange-1.xsd"
MINISTRY_WSDL_FILE = "ministry-exchange.wsdl"
NATIONAL_WSDL_FILE = "national-exchange.wsdl"

_CONTRACT_SUFFIXES = (".xsd", ".wsdl", ".json", ".yaml")


class Operation(NamedTuple):
    """One SOAP operation: its name, request and response element (local names in `NAMESPACE`)."""

    name: str
    request: str
    response: str

    @property
    def soap_action(self) -> str:
        return f"{NAMESPACE}#{self.name}"


MINISTRY_OPERATIONS: tuple[Operation, ...] = (
    Operation("SubmitPetition", "PetitionMessage", "Receipt"),
    Operation("SubmitPetitionUpdate", "PetitionUpdateMessage", "Receipt"),
    Operation("SubmitFeedback", "FeedbackMessage", "Receipt"),
    Operation("GetPetitionStatus", "StatusQuery", "StatusReport"),
)
"""Operations of `MinistryExchange`, the service the gateway exposes."""

NATIONAL_OPERATIONS: tuple[Operation, ...] = (
    Operation("ReceiveAnswer", "AnswerMessage", "Receipt"),
    Operation("ReceiveStatus", "StatusMessage", "Receipt"),
    Operation("RequestTransfer", "TransferMessage", "Receipt"),
    Operation("ListPetitions", "ListQuery", "PetitionList"),
)
"""Operations of `NationalExchange`, the service the national portal exposes."""


@functools.cache
def schema_dir() -> Path:
    """The directory holding the contract files, on the real file system."""
    root = resources.files(__name__)
    if isinstance(root, Path):
        return root
    return _materialise(root)


def xsd_path() -> Path:
    return schema_dir() / XSD_FILE


def ministry_wsdl_path() -> Path:
    return schema_dir() / MINISTRY_WSDL_FILE


def national_wsdl_path() -> Path:
    return schema_dir() / NATIONAL_WSDL_FILE


def _materialise(root: Traversable) -> Path:
    """Copy the contract files out of a non-file-system package (a zip) into one temporary directory.

    They are copied together, not one by one with `importlib.resources.as_file`, because the WSDLs
    refer to the XSD by a relative path. The directory is removed when the interpreter exits.
    """
    target = Path(tempfile.mkdtemp(prefix="pakn-schemas-"))
    atexit.register(shutil.rmtree, target, ignore_errors=True)
    for entry in root.iterdir():
        if entry.is_file() and entry.name.endswith(_CONTRACT_SUFFIXES):
            (target / entry.name).write_bytes(entry.read_bytes())
    return target
