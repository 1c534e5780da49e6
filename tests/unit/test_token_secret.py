"""The services that sign or check item tokens start only with a real secret; ``postroom up``
makes one for the laptop."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from services.cli.up import local_token_secret
from services.api.settings import ApiSettings
from services.notifier.settings import NotifierSettings
from services.parser.settings import ParserSettings
from shared.settings import DEV_TOKEN_SECRET, CommonSettings, SettingsError
from shared.tokens import ItemTokens
from tests.conftest import ROOT

# The API too: it previews the parser's verdict on a mail and derives the console's CSRF key from it.
SERVICE_SETTINGS = [ParserSettings, NotifierSettings, ApiSettings]
HOW = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'


@pytest.fixture(autouse=True)
def no_secret_around(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Nothing from the environment or a var/ of the checkout decides these tests."""
    for name in ("POSTROOM_TOKEN_SECRET", "POSTROOM_TOKEN_SECRET_FILE", "POSTROOM_TOKEN_SECRETS_OLD", "POSTROOM_DEV_MODE",
                 "POSTROOM_SECRETS_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("POSTROOM_VAR_DIR", str(tmp_path / "var"))


@pytest.mark.parametrize("settings_cls", SERVICE_SETTINGS)
def test_a_service_refuses_the_built_in_secret_naming_the_variable_and_how_to_make_one(settings_cls) -> None:  # type: ignore[no-untyped-def]
    """Unset, the secret is the built-in one, which anyone can read in the code."""
    with pytest.raises(SettingsError) as refused:
        settings_cls()
    message = str(refused.value)
    assert "POSTROOM_TOKEN_SECRET" in message and "built-in development value" in message
    assert HOW in message and "POSTROOM_DEV_MODE=1" in message and "\n" not in message
    with pytest.raises(SettingsError, match="built-in development value"):
        settings_cls(token_secret=DEV_TOKEN_SECRET)


@pytest.mark.parametrize("settings_cls", SERVICE_SETTINGS)
@pytest.mark.parametrize("secret, size", [("x" * 31, 31), ("é" * 15, 30), ("short", 5)])
def test_a_service_refuses_a_secret_shorter_than_32_bytes(settings_cls, secret: str, size: int) -> None:  # type: ignore[no-untyped-def]
    """Bytes count, not characters: 15 accented letters are 30 bytes."""
    with pytest.raises(SettingsError, match=f"POSTROOM_TOKEN_SECRET is {size} bytes, fewer than 32"):
        settings_cls(token_secret=secret)


def test_a_service_refuses_a_secret_from_the_environment_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check is on the value however it arrives: variable, mounted file or token secret file."""
    monkeypatch.setenv("POSTROOM_TOKEN_SECRET", "compose-only-token-secret")
    with pytest.raises(SettingsError, match="25 bytes"):
        ParserSettings()


def test_a_placeholder_left_from_the_example_is_refused() -> None:
    """``CHANGE-ME`` from secrets.env.example is long enough, and public."""
    with pytest.raises(SettingsError, match="placeholder"):
        NotifierSettings(token_secret="CHANGE-ME-at-least-32-random-bytes")


@pytest.mark.parametrize("settings_cls", SERVICE_SETTINGS)
def test_a_service_accepts_a_secret_of_32_bytes(settings_cls) -> None:  # type: ignore[no-untyped-def]
    """32 bytes, the size of an HMAC-SHA256 key, is enough."""
    assert settings_cls(token_secret="k" * 32).resolved_token_secret == "k" * 32


@pytest.mark.parametrize("settings_cls", SERVICE_SETTINGS)
def test_development_mode_accepts_the_built_in_and_a_short_secret(settings_cls, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """POSTROOM_DEV_MODE=1 says the operator knows: a laptop, a test stack."""
    monkeypatch.setenv("POSTROOM_DEV_MODE", "1")
    assert settings_cls().resolved_token_secret == DEV_TOKEN_SECRET
    assert settings_cls(token_secret="short").resolved_token_secret == "short"


def test_the_parser_process_refuses_to_start_with_one_line_on_stderr(tmp_path: Path) -> None:
    """What the operator sees: the variable, the way to make a secret, a non-zero exit, no traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTROOM_")} | {"POSTROOM_VAR_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "services.parser"], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("postroom parser: refusing to start: POSTROOM_TOKEN_SECRET is the built-in")
    assert HOW in line


def test_postroom_up_makes_a_random_secret_once_in_a_file_only_its_owner_reads(tmp_path: Path) -> None:
    """The services it starts then take it, and a restart keeps it (tokens already sent stay valid)."""
    settings = CommonSettings()
    path, made = local_token_secret(settings)
    assert made and path == tmp_path / "var" / "token-secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secret = path.read_text().strip()
    assert len(secret.encode()) >= 32 and secret != DEV_TOKEN_SECRET
    assert local_token_secret(CommonSettings()) == (path, False) and path.read_text().strip() == secret
    assert ParserSettings().resolved_token_secret == secret
    assert NotifierSettings(token_secret_file=path).resolved_token_secret == secret
    assert local_token_secret(CommonSettings(var_dir=tmp_path / "other"))[0].read_text() != path.read_text()


def test_postroom_up_leaves_a_secret_set_in_the_environment_alone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A secret the operator set wins: no file is made beside it."""
    monkeypatch.setenv("POSTROOM_TOKEN_SECRET", "o" * 40)
    path, made = local_token_secret(CommonSettings())
    assert not made and not path.exists()
    assert ParserSettings().resolved_token_secret == "o" * 40


CURRENT = "c" * 40


@pytest.mark.parametrize("settings_cls", SERVICE_SETTINGS)
@pytest.mark.parametrize("old, problem", [
    (DEV_TOKEN_SECRET, "built-in development value"),
    ("CHANGE-ME-the-secret-we-had-before-this-one", "placeholder"),
    ("x" * 31, "31 bytes, fewer than 32"),
])
def test_an_older_secret_is_refused_by_the_same_rules_naming_the_variable_and_the_entry(  # type: ignore[no-untyped-def]
        settings_cls, old: str, problem: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An older secret still verifies tokens: a weak one would let anyone sign one. The message says
    which entry of the list, never the secret itself."""
    monkeypatch.setenv("POSTROOM_TOKEN_SECRET", CURRENT)
    monkeypatch.setenv("POSTROOM_TOKEN_SECRETS_OLD", f"{'o' * 40}, {old}")
    with pytest.raises(SettingsError) as refused:
        settings_cls()
    message = str(refused.value)
    assert message.startswith(f"POSTROOM_TOKEN_SECRETS_OLD entry 2 is {'a ' if 'placeholder' in problem else ''}")
    assert problem in message and "\n" not in message and old not in message and "o" * 40 not in message


@pytest.mark.parametrize("settings_cls", SERVICE_SETTINGS)
def test_older_secrets_come_comma_separated_and_verify_but_never_sign(  # type: ignore[no-untyped-def]
        settings_cls, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTROOM_TOKEN_SECRET", CURRENT)
    monkeypatch.setenv("POSTROOM_TOKEN_SECRETS_OLD", f"{'o' * 40}, {'p' * 32}")
    tokens = settings_cls().item_tokens()
    assert (tokens.secret, tokens.older_secrets) == (CURRENT, ("o" * 40, "p" * 32))
    for old in ("o" * 40, "p" * 32):
        signed_before = ItemTokens("[#{number}]", old).message_id("incident", 3, "ours.example", recipient="a@b.example")
        assert tokens.items_in_message_id(signed_before, "a@b.example")[0].valid
    made_now = tokens.message_id("incident", 3, "ours.example", recipient="a@b.example")
    assert ItemTokens("[#{number}]", CURRENT).items_in_message_id(made_now, "a@b.example")[0].valid


def test_a_repr_of_the_settings_shows_no_older_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTROOM_TOKEN_SECRETS_OLD", "o" * 40)
    assert "o" * 40 not in repr(ParserSettings(token_secret=CURRENT))


def test_development_mode_accepts_a_short_older_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTROOM_DEV_MODE", "1")
    assert ParserSettings(token_secrets_old="short").item_tokens().older_secrets == ("short",)


def test_the_parser_process_refuses_a_short_older_secret_with_one_line_on_stderr(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTROOM_")} | {
        "POSTROOM_VAR_DIR": str(tmp_path), "POSTROOM_TOKEN_SECRET": CURRENT, "POSTROOM_TOKEN_SECRETS_OLD": "short"}
    done = subprocess.run([sys.executable, "-m", "services.parser"], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("postroom parser: refusing to start: POSTROOM_TOKEN_SECRETS_OLD entry 1 is 5 bytes")


def test_the_consoles_csrf_key_comes_from_the_resolved_secret_not_the_built_in_one(tmp_path: Path) -> None:
    """With ``make up``'s secret file and no POSTROOM_CONSOLE_CSRF_KEY, the CSRF key is derived from
    the file's secret: a key from the built-in value would let anyone forge a form's token."""
    from services.console.security import csrf_token

    (tmp_path / "token-secret").write_text("f" * 48)
    from_file = ApiSettings(var_dir=tmp_path)
    dev = ApiSettings(dev_mode=True, var_dir=tmp_path / "none")
    assert from_file.resolved_token_secret == "f" * 48
    assert csrf_token(from_file, "session") != csrf_token(dev, "session")
    assert csrf_token(from_file, "session") == csrf_token(ApiSettings(token_secret="f" * 48), "session")
