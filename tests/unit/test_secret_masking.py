"""Masking a secret in a message shown to a person: each occurrence, and nothing else."""

from __future__ import annotations

from shared.secrets import MASK, mask_secrets


def test_a_secret_quoted_by_the_server_is_masked_and_the_rest_of_its_message_stays():
    text = "login refused: [AUTHENTICATIONFAILED] bad password 'pw-4711' for support (try again)"
    assert mask_secrets(text, {"password": "pw-4711"}) == (
        f"login refused: [AUTHENTICATIONFAILED] bad password '{MASK}' for support (try again)")


def test_every_occurrence_is_masked_and_a_secret_containing_another_is_masked_whole():
    secrets = {"password": "hunter2", "app_password": "hunter2-app"}
    assert mask_secrets("a hunter2-app b hunter2 c hunter2", secrets) == f"a {MASK} b {MASK} c {MASK}"


def test_the_escaped_forms_of_a_server_answer_and_numbers_are_masked():
    """imaplib's errors show the server's bytes with Python escapes; YAML reads 123456 as a number."""
    secrets = {"password": "mot-de-passé", "app_password": 987654}
    text = "NO [b'mot-de-pass\\xc3\\xa9'] and 'mot-de-pass\\xe9' and code 987654 end"
    assert mask_secrets(text, secrets) == f"NO [b'{MASK}'] and '{MASK}' and code {MASK} end"


def test_no_secret_or_an_empty_one_changes_nothing():
    assert mask_secrets("all fine", {"password": "", "client_secret": None, "flag": True}) == "all fine"
