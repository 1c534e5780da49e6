"""An account form's text read back as the values the application layer stores, and a spec's
refusals carrying the field each is about (what the console places beside that field)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.app.accountedits import invalid
from services.app.accountforms import ItemTable, read_form, read_items, read_values
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
    assert spec.map_senders is False and spec.quiet_on_create is False  # unticked boxes are not sent
    ticked, _, _ = read_form(provider_of("imap"), IMAP_FORM | {"map_senders": ["true"], "quiet_on_create": ["true"]})
    assert ticked["map_senders"] is True and ticked["quiet_on_create"] is True


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


TABLE = ItemTable({"severity": "choice", "minutes": "number", "urgent": "bool"})


def test_the_tables_offer_the_recommended_item_fields_then_the_catalog_s_custom_fields() -> None:
    assert TABLE.targets == ("title", "description", "contact", "date", "severity", "minutes", "urgent")
    assert TABLE.defaulted == ("status", "step", "customer", "severity", "minutes", "urgent")


def test_mapping_rows_store_only_what_differs_from_the_recommended_mail_field() -> None:
    form = {"field_mapping.title": ["subject"], "field_mapping.description": ["reply"],
            "field_mapping.contact": ["reply_to"], "field_mapping.severity": [""], "field_mapping.minutes": ["none"]}
    items, problems = read_items(TABLE, form)
    assert items["field_mapping"] == {"description": "reply", "contact": "reply_to", "minutes": "none"}
    assert problems == []


def test_default_rows_are_typed_by_their_field_s_kind_and_empty_rows_are_ignored() -> None:
    form = {"default_values.field": ["status", "minutes", "urgent", "severity", "", "step"],
            "default_values.value": [" open ", "15", "yes", "high", "", ""]}
    items, problems = read_items(TABLE, form)
    assert items["default_values"] == {"status": "open", "minutes": 15, "urgent": True, "severity": "high"}
    assert problems == []  # the emptied "step" row is removed, the empty one ignored
    typed = read_items(TABLE, {"default_values.field": ["minutes", "urgent"],
                               "default_values.value": ["1.5", "maybe"]})[0]["default_values"]
    assert typed == {"minutes": 1.5, "urgent": "maybe"}  # left as typed for account_problems to name


def test_a_value_without_a_field_or_a_field_given_twice_is_refused_as_a_default_values_problem() -> None:
    form = {"default_values.field": ["", "status", "status"], "default_values.value": ["high", "open", "new"]}
    _, problems = read_items(TABLE, form)
    assert [field for field, _ in problems] == ["default_values", "default_values"]
    assert "'high' has no field" in problems[0][1] and "status is given twice" in problems[1][1]
    with pytest.raises(Invalid) as refused:
        read_form(provider_of("imap"), IMAP_FORM | form, TABLE)
    assert refused.value.field == "default_values"


def test_the_form_s_values_carry_the_tables_and_without_a_table_none() -> None:
    form = IMAP_FORM | {"field_mapping.title": ["body"], "default_values.field": ["status"],
                        "default_values.value": ["open"]}
    values, _, _ = read_form(provider_of("imap"), form, TABLE)
    spec = AccountSpec.model_validate(spec_of(values) | {"password": "x"})
    assert spec.field_mapping == {"title": "body"} and spec.default_values == {"status": "open"}
    assert "field_mapping" not in read_form(provider_of("imap"), form)[0]
    assert read_values(provider_of("imap"), form)["default_rows"] == [("status", "open")]
