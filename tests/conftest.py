"""Shared fixtures. The FY2023 reference list is the test data of this project."""

import os
import shutil

import pytest

from renkei_xl.core.reference import load_reference


@pytest.fixture(scope="session")
def fy2023():
    return load_reference("fy2023")


def require_soffice() -> str:
    """LibreOffice is part of the product's test bench: on CI its absence is a failure."""
    path = shutil.which("soffice") or shutil.which("libreoffice")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice (soffice) が見つかりません: .ci/run がインストールするはずです")
        pytest.skip("soffice not installed (allowed only outside CI)")
    return path
