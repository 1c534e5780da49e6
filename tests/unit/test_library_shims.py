"""Each shim into a library's private parts checks, at import, that the installed version is one it
was checked against, and stops the service with a clear error on any other."""

from __future__ import annotations

import importlib
import platform
from importlib import metadata
from types import ModuleType

import pytest

from shared.mailboxes import imapclient_shim, poplib_shim
from shared.library_versions import UnverifiedLibrary, release, require

SHIMS = [pytest.param(imapclient_shim, "imapclient", id="imapclient"),
         pytest.param(poplib_shim, None, id="poplib")]


def installed(library: str | None) -> str:
    return metadata.version(library) if library else platform.python_version()


@pytest.mark.parametrize(("shim", "library"), SHIMS)
def test_the_installed_version_passes(shim: ModuleType, library: str | None) -> None:
    assert shim.check_version() == installed(library)


@pytest.mark.parametrize(("shim", "library"), SHIMS)
@pytest.mark.parametrize("unknown", ["99.0.0", "0.1", "5.0.0rc1"])
def test_an_unknown_version_fails_naming_the_library_and_the_range(
        shim: ModuleType, library: str | None, unknown: str) -> None:
    if shim is poplib_shim and unknown == "5.0.0rc1":
        unknown = "3.10.4"
    with pytest.raises(UnverifiedLibrary, match=rf"{unknown} is installed.*>={shim.VERIFIED[0]},<{shim.VERIFIED[1]}"):
        shim.check_version(unknown)


@pytest.mark.parametrize(("shim", "library"), SHIMS[:1])
def test_importing_the_shim_under_an_unknown_version_fails(
        shim: ModuleType, library: str, monkeypatch: pytest.MonkeyPatch) -> None:
    real = metadata.version
    monkeypatch.setattr(metadata, "version", lambda name: "99.0" if name == library else real(name))
    with pytest.raises(UnverifiedLibrary, match=rf"{library} 99.0 is installed"):
        importlib.reload(shim)
    monkeypatch.undo()
    importlib.reload(shim)  # as it was


def test_importing_the_poplib_shim_under_an_unknown_python_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platform, "python_version", lambda: "3.99.0")
    with pytest.raises(UnverifiedLibrary, match=r"3.99.0 is installed"):
        importlib.reload(poplib_shim)
    monkeypatch.undo()
    importlib.reload(poplib_shim)


def test_the_range_is_low_inclusive_and_high_exclusive() -> None:
    assert require("x", "5.4", "5.5", installed="5.4") == "5.4"
    assert require("x", "5.4", "5.5", installed="5.4.9") == "5.4.9"
    with pytest.raises(UnverifiedLibrary):
        require("x", "5.4", "5.5", installed="5.5.0")
    with pytest.raises(UnverifiedLibrary):
        require("x", "5.4", "5.5", installed="5.3.9")


def test_a_version_is_read_by_its_release_numbers() -> None:
    assert release("5.4.2") == (5, 4, 2)
    assert release("6.0.0rc1") == (6, 0, 0)
    with pytest.raises(UnverifiedLibrary):
        release("dev")
