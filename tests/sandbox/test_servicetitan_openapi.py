"""The packaged ServiceTitan documents are the vendor's, cut mechanically (no hand edits)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connector.sandbox.servicetitan import spec
from connector.sandbox.servicetitan.openapi import MODULES
from connector.sandbox.servicetitan.openapi.extract import cut

#: Where the project keeps the vendor's full downloads (beside the system sheet).
VENDOR = Path("/work/shared/systems/servicetitan-openapi")


@pytest.mark.skipif(not VENDOR.is_dir(), reason="the vendor's full documents are not here")
@pytest.mark.parametrize("module", MODULES)
def test_packaged_document_is_the_cut_of_the_vendors(module: str) -> None:
    """Each packaged document equals the extractor's cut of the vendor's download."""
    vendor = json.loads((VENDOR / f"{module}-v2.json").read_text())
    assert spec.document(module) == cut(vendor)


def test_every_get_operation_is_loaded() -> None:
    """All 175 documented GETs of the six modules load from the packaged documents."""
    operations = spec.operations()
    assert len(operations) == 175
    assert {module for module, _ in operations} == set(MODULES)
