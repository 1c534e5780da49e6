"""Every main page at a desk's width (1280 px) and a phone's (390 px), in the real Chromium: nothing
wider than the window, a label on every control, every control reachable with the keyboard. Each
page is photographed on the way; with ``POSTROOM_SCREENSHOTS=DIR`` (``make screenshots`` sets it to
docs/screenshots, the README's pictures) the photographs are kept there."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from shared.db.models import HeldMail
from tests.console.conftest import ADMIN, Tab
from tests.support.items import add

WIDTHS = {"desk": (1280, 860), "phone": (390, 844)}

# What a page must not have: a control nobody can name (no <label>, aria-label or aria-labelledby),
# one the keyboard cannot reach (tabindex below 0), or content wider than the window.
_PROBLEMS = """() => {
  const problems = [];
  const named = (el) => (el.labels && el.labels.length) || el.getAttribute("aria-label")
      || el.getAttribute("aria-labelledby") || el.getAttribute("title");
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (["hidden", "submit", "button"].includes(el.type)) continue;
    if (!named(el)) problems.push("no label: " + el.outerHTML.slice(0, 120));
  }
  for (const el of document.querySelectorAll("a[href], button, input, select, textarea, [tabindex]")) {
    if (el.type === "hidden") continue;
    if (el.tabIndex < 0 && !el.closest("[aria-hidden=true]")) problems.push("not by keyboard: " + el.outerHTML.slice(0, 120));
  }
  for (const el of document.querySelectorAll("button")) {
    if (!el.textContent.trim() && !el.getAttribute("aria-label")) problems.push("button without a name: " + el.outerHTML);
  }
  const width = document.documentElement.scrollWidth, window_width = window.innerWidth;
  if (width > window_width + 1) problems.push(`page ${width}px wide in a ${window_width}px window`);
  return problems;
}"""


def _pages(tab: Tab) -> dict[str, str]:
    console = tab.console
    first = console.customer_mail(sender="alice@customer.example", subject="The printer on floor 2 is jammed",
                                  text="It shows error E-42 and the tray light blinks.\n\nAlice")
    console.customer_mail(sender="bob@customer.example", subject="VPN drops every ten minutes")
    console.customer_mail(sender="carol@customer.example", subject="Invoice 2026-118 shows the wrong address")
    held = HeldMail(account="support", source="stdin", source_id="stdin:held-1", raw_key="sha256:" + "b" * 64,
                    raw_size=120, raw_sha256="b" * 64, from_address="dave@customer.example",
                    subject="Order 5512 has not arrived", rule="inactive-account",
                    reason="account support is inactive: its mail is held until it is activated")
    add(console.sessions, held)
    return {"items": "/items", "item": f"/items/incident/{first}", "accounts": "/accounts",
            "queues": "/operations/queues", "dead-letters": "/operations/dead-letters",
            "account-form": "/accounts/new?kind=imap", "held": "/operations/held",
            "held-mail": f"/operations/held/{held.id}",
            "breakers": "/operations/breakers", "contacts": "/operations/contacts", "people": "/operations/people"}


def _keep_dir(tmp_path: Path) -> Path:
    wanted = os.environ.get("POSTROOM_SCREENSHOTS")
    return Path(wanted) if wanted else tmp_path


@pytest.mark.parametrize("width", list(WIDTHS))
def test_every_main_page_fits_the_window_names_its_controls_and_works_by_keyboard(tab: Tab, width: str,
                                                                                 tmp_path: Path) -> None:
    page: Any = tab.page
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    pages = _pages(tab)
    tab.sign_in(ADMIN)
    keep = _keep_dir(tmp_path)
    keep.mkdir(parents=True, exist_ok=True)
    found: dict[str, list[str]] = {}
    for name, path in pages.items():
        answer = tab.open(path)
        assert answer is not None and answer.status == 200, (path, answer and answer.status)
        page.wait_for_load_state("networkidle")
        found[name] = page.evaluate(_PROBLEMS)
        shot = keep / f"{name}-{width}.png"
        page.screenshot(path=str(shot), full_page=width == "desk")
        assert shot.stat().st_size > 5_000, f"{shot} is blank"
    assert {name: p for name, p in found.items() if p} == {}
    assert tab.violations == []


def test_the_keyboard_alone_reaches_the_item_list_and_opens_an_item(tab: Tab) -> None:
    """From the top of the page: Tab to the skip link, Enter, Tab to the first item, Enter."""
    page: Any = tab.page
    number = tab.console.customer_mail(subject="Keyboard only")
    tab.sign_in(ADMIN)
    tab.open("/items")
    for _ in range(60):
        page.keyboard.press("Tab")
        focused = page.evaluate("() => document.activeElement.textContent.trim()")
        if focused == f"incident #{number}":
            break
    else:
        pytest.fail("Tab never reached the item's link")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/items/incident/{number}")
    assert "Keyboard only" in page.get_by_role("heading", level=1).inner_text()
