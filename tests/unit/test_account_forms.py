"""An account form's text read back as the values the application layer stores, and a spec's
refusals carrying the field each is about (what the console places beside that field)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.app.accountedits import invalid
from services.app.accountforms import read_form, read_values
from services.app.accountproviders import form_fields, form_secrets, provider_of, spec_of
from services.app.errors import Invalid
from shared.accounts.specs import AccountSpec

IMAP_FORM = {"kind": ["imap"], "name": ["helpdesk"], "address": ["helpdesk@ours.example"], "host": ["imap.example"],
             "tls": ["starttls"], "port": ["143"], "user": ["helpdesk"], "folder": ["INBOX"],
             "after_fetch": ["mark_read"], "existing_mail": ["skip"], "item_type": ["incident"],
             "project": ["Support"], "creator": [""], "reply_status": [""], "save_attachments": ["true"],
             "auto_reply": ["true"], "password": ["s3cret-pass"]}


def test_an_imap_form_reads_as_the_spec_with_its_secret_apart_and_empty_optionals_left_out() -> None:
    values, secrets, empty = read_form(provider_of("imap"), IMAP_FORM)
    assert secrets == {"password": "s3cret-pass"} and "password" not in values
    assert values["port"] == 143 and values["save_attachments"] is True and values["auto_reply_cc"] is False
    assert set(empty) == {"creator", "reply_status"}
    spec = AccountSpec.model_validate(spec_of(values) | secrets)
    assert spec.kind == "imap" and spec.secrets() == {"password": "s3cret-pass"}
    assert spec.project == "Support" and spec.add_sender_to_notify is False


def test_an_empty_secret_is_not_given_and_an_empty_required_field_is_refused_by_name() -> None:
    _, secrets, _ = read_form(provider_of("imap"), IMAP_FORM | {"password": [""]})
    assert secrets == {}
    with pytest.raises(Invalid) as refused:
        read_form(provider_of("imap"), IMAP_FORM | {"host": [" "]})
    assert refused.value.field == "host" and refused.value.field_problems == (("host", "host: required"),)


def test_a_number_that_does_not_parse_is_kept_as_typed_for_the_spec_to_name() -> None:
    values = read_values(provider_of("imap"), IMAP_FORM | {"port": ["99a"]})
    assert values["port"] == "99a"


def test_each_provider_offers_only_its_fields_and_secrets() -> None:
    assert {f.key for f in form_fields(provider_of("imap"))} >= {"name", "address", "host", "port", "folder"}
    assert "host" not in {f.key for f in form_fields(provider_of("gmail"))}
    assert {f.key for f in form_fields(provider_of("dropfolder"))} == {"name", "address", "path"}
    assert form_secrets(provider_of("pop3")) == ("password",) and form_secrets(provider_of("gmail")) == (
        "client_secret",) and form_secrets(provider_of("dropfolder")) == ()


def test_a_spec_refusal_names_each_problems_field_and_never_the_password() -> None:
    given = {"name": "x", "kind": "imap", "address": "x@ours.example", "project": "Support", "host": "h",
             "user": "u", "port": 0, "password": "pw-s3cret"}
    with pytest.raises(ValidationError) as bad_port:
        AccountSpec.model_validate(given)
    refused = invalid("x", bad_port.value, {"password": "pw-s3cret"})
    assert refused.field == "port" and "greater than or equal to 1" in refused.message
    with pytest.raises(ValidationError) as no_password:
        AccountSpec.model_validate({k: v for k, v in given.items() if k not in ("password", "port")})
    assert invalid("x", no_password.value, {}).field == "password"
