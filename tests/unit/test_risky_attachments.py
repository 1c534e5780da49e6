"""Which attachments are risky to open: by the real last extension or by the declared type."""

from __future__ import annotations

import pytest

from shared.risky import risk


@pytest.mark.parametrize("filename, content_type", [
    ("setup.exe", "application/octet-stream"), ("report.pdf.EXE", "application/pdf"), ("run.ps1", "text/plain"),
    ("invoice.docm", "application/octet-stream"), ("disk.iso", "application/octet-stream"),
    ("page.html", "application/octet-stream"), ("bin", "application/x-msdownload"), ("x", "text/html; charset=utf-8"),
    ("drawing.svg", "image/svg+xml"), ("trailing.exe. ", "application/octet-stream"),
])
def test_programs_scripts_macros_disk_images_and_pages_are_risky(filename: str, content_type: str) -> None:
    assert risk(filename, content_type) is not None


@pytest.mark.parametrize("filename, content_type", [
    ("report.pdf", "application/pdf"), ("photo.jpg", "image/jpeg"), ("notes.txt", "text/plain"),
    ("sheet.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), ("exe", "text/plain"),
])
def test_documents_pictures_and_plain_text_are_not(filename: str, content_type: str) -> None:
    assert risk(filename, content_type) is None
