"""The template preview through the API: admins render a template being written against the sample
mail or a stored one and get the rendered mail, or the problem with its line; others cannot."""

from __future__ import annotations

from tests.api.conftest import Api, customer_mail

PREVIEW = "/api/v1/templates/preview"


def test_only_admins_preview_templates(api: Api, admin: dict[str, str], agent: dict[str, str]) -> None:
    body = {"kind": "created", "text": "{{ token }}"}
    assert api.client.post(PREVIEW, json=body).status_code == 401
    assert api.client.post(PREVIEW, json=body, headers=agent).status_code == 403
    assert api.client.post(PREVIEW, json=body, headers=admin).status_code == 200


def test_an_admin_previews_against_the_sample_and_a_stored_mail_with_its_new_text(
        api: Api, admin: dict[str, str]) -> None:
    body = {"kind": "updated", "text": "{{ mail.from_address }}: {{ mail.reply_text }}"}
    sample = api.client.post(PREVIEW, json=body, headers=admin).json()
    assert (sample["against"], sample["text"], sample["html"]) == (
        "sample", "ada@customer.example: It jams again, on every second page.", None)
    assert sample["subject"] == "[#42] Updated: Printer jammed" and sample["problems"] == []

    number = customer_mail(api, sender="alice@customer.example", subject="Printer on fire",
                           text="It burns.\n\n> older words\n", reply_text="It burns.")
    stored = api.client.post(PREVIEW, json=body | {"item_number": number, "html": "<p>{{ token }}</p>"},
                             headers=admin).json()
    assert stored["text"] == "alice@customer.example: It burns." and stored["html"] == f"<p>[#{number}]</p>"
    mail_id = api.client.get(f"/api/v1/items/incident/{number}", headers=admin).json()["mails"][0]["id"]
    by_id = api.client.post(PREVIEW, json={"kind": "created", "mail_id": mail_id}, headers=admin).json()
    assert by_id["against"] == f"mail {mail_id} (incident #{number})"
    assert f"A new incident [#{number}] was created from a mail by alice@customer.example" in by_id["text"]
    assert "It burns." in by_id["text"] and "older words" not in by_id["text"]
    assert api.client.post(PREVIEW, json={"kind": "created", "mail_id": 99999}, headers=admin).status_code == 404


def test_a_template_that_would_not_render_comes_back_with_its_line_and_reason(
        api: Api, admin: dict[str, str]) -> None:
    answer = api.client.post(PREVIEW, json={"kind": "created", "html": "<p>\n{{ item.titel }}</p>"}, headers=admin)
    assert answer.status_code == 200
    result = answer.json()
    assert result["subject"] is None and result["html"] is None
    [problem] = result["problems"]
    assert (problem["template"], problem["line"]) == ("created.html", 2) and "item has no 'titel'" in problem["reason"]
    unknown = api.client.post(PREVIEW, json={"kind": "closed", "text": "x"}, headers=admin)
    assert unknown.status_code == 422 and "unknown kind" in unknown.json()["message"]
