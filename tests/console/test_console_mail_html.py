"""A mail's HTML on the item page, in a real Chromium: the mail goes through the real parser and
itemwriter, and its sanitized HTML shows in a sandboxed frame where nothing runs (not even HTML that
got past the sanitizer), its inline image comes from the item's attachment, and its remote image is
not fetched until the person asks; a stranger gets none of it."""

from __future__ import annotations

import base64
import struct
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from shared.db.engine import transaction
from shared.db.models import ItemMail
from tests.console.conftest import ADMIN, AGENT, Console, Tab
from tests.support.items import TOKENS, through_parser
from tests.support.waiting import wait_for


def _png(width: int, height: int) -> bytes:
    """A real PNG of one colour, so the browser has something to draw (and measure)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


LOGO = _png(3, 2)


class Web:
    """A web server elsewhere (the sender's): serves an image, and records every path asked for."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        seen = self.paths

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                seen.append(self.path)
                body = _png(5, 4)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET  # noqa: N815 - a form posted here is recorded the same way

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def beacons(self) -> list[str]:
        return [p for p in self.paths if p.startswith("/beacon")]


@pytest.fixture
def web() -> Iterator[Web]:
    served = Web()
    yield served
    served.server.shutdown()
    served.server.server_close()


def _hostile(web: Web) -> str:
    """Every way mail HTML tries to run something or call home, each calling a different beacon."""
    return (f'<p>Hello <b>world</b></p><script>document.title="pwned";fetch("{web.url}/beacon/script")</script>'
            f'<img alt="broken" src="x" onerror="document.title=\'pwned\';fetch(\'{web.url}/beacon/onerror\')">'
            f'<a id="js" href="javascript:fetch(\'{web.url}/beacon/link\')">a javascript link</a>'
            f'<form id="f" action="{web.url}/beacon/form" method="post"><input name="q" value="1">'
            f'<button id="send">Send</button></form>'
            f'<p><img alt="logo" src="cid:logo@customer.example"> <img alt="remote" src="{web.url}/tracker.png"></p>')


def _raw(html: str) -> bytes:
    return ("From: Alice <alice@customer.example>\r\nTo: support@ours.example\r\nSubject: See the picture\r\n"
            "Message-ID: <html-1@customer.example>\r\nDate: Thu, 26 Nov 2026 09:30:00 +0000\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/related; boundary="rel"\r\n\r\n--rel\r\n'
            "Content-Type: text/html; charset=utf-8\r\n\r\n" + html + "\r\n--rel\r\n"
            "Content-Type: image/png\r\nContent-ID: <logo@customer.example>\r\nContent-Disposition: inline\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n").encode() + base64.encodebytes(LOGO) + b"--rel--\r\n"


def _html_mail(console: Console, web: Web) -> tuple[int, int]:
    """The mail through the real parser and itemwriter: its item's number and the mail's id."""
    [changed] = through_parser(console.sessions, console.service.context.store, TOKENS, _raw(_hostile(web)))
    with console.sessions() as session:
        mail_id = session.scalar(select(ItemMail.id).where(ItemMail.message_id == "<html-1@customer.example>"))
    assert mail_id is not None
    return changed.item.number, mail_id


def _natural_width(frame: Any, alt: str) -> int:
    """How wide the browser found the image once loaded (0: nothing drawn), read from the frame's
    DOM by the test's own script (the frame's sandbox lets none of its own run)."""
    image = frame.locator(f'img[alt="{alt}"]')
    expect(image).to_have_count(1)
    width: int = image.evaluate("(img) => img.complete ? img.naturalWidth : -1")
    return width


def test_a_mails_html_runs_nothing_shows_its_inline_image_and_fetches_remote_images_only_when_asked(
        tab: Tab, web: Web) -> None:
    number, mail_id = _html_mail(tab.console, web)
    tab.sign_in(AGENT)
    page = tab.page
    tab.open(f"/items/incident/{number}")
    frame = page.frame_locator(f'iframe[name="mail-html-{mail_id}"]')
    expect(frame.locator("body")).to_contain_text("Hello world")
    expect(frame.locator("body")).to_contain_text("a javascript link")
    # The inline image is the mail's own attachment, written into the document.
    wait_for(lambda: _natural_width(frame, "logo") == 3, timeout=10, what="the inline image drawn")
    expect(frame.locator('img[alt="logo"]')).to_have_attribute("src", "data:image/png;base64,"
                                                               + base64.b64encode(LOGO).decode())
    # Nothing of the sender's web was asked for: no script ran, the remote image waits.
    expect(frame.locator("form")).to_have_count(0)
    frame.get_by_text("a javascript link").click()
    page.wait_for_load_state("networkidle")
    assert page.title() != "pwned" and web.paths == []
    assert _natural_width(frame, "remote") <= 0
    expect(page.locator(f"#mail-{mail_id} .remote-images")).to_contain_text("Remote images are not shown")

    page.get_by_role("link", name="Show remote images").click()
    wait_for(lambda: "/tracker.png" in web.paths, timeout=10, what="the remote image asked for")
    wait_for(lambda: _natural_width(frame, "remote") == 5, timeout=10, what="the remote image drawn")
    expect(frame.locator("body")).to_contain_text("Hello world")
    assert web.beacons() == [] and page.title() != "pwned"
    assert tab.violations == []


def test_html_that_got_past_the_sanitizer_still_runs_nothing_and_sends_no_form(tab: Tab, web: Web) -> None:
    """The frame's sandbox and policy hold on their own: the stored HTML is made hostile again."""
    number, mail_id = _html_mail(tab.console, web)
    with transaction(tab.console.sessions) as session:
        session.execute(update(ItemMail).where(ItemMail.id == mail_id).values(html=_hostile(web)))
    tab.sign_in(AGENT)
    page = tab.page
    tab.open(f"/items/incident/{number}")
    frame = page.frame_locator(f'iframe[name="mail-html-{mail_id}"]')
    expect(frame.locator("#send")).to_be_visible()
    frame.locator("#send").click()
    frame.locator("#js").click()
    page.wait_for_load_state("networkidle")
    expect(frame.locator("body")).to_contain_text("Hello world")  # still our document, nothing submitted
    assert web.beacons() == [] and page.title() != "pwned"
    # The remote image, though its address is in src now, is refused by the frame's policy.
    assert "/tracker.png" not in web.paths


def test_only_a_signed_in_person_gets_a_mails_html(tab: Tab, web: Web, browser: Any) -> None:
    console = tab.console
    number, mail_id = _html_mail(console, web)
    path = f"/items/incident/{number}/mails/{mail_id}/html"
    stranger = browser.new_context()
    answer = stranger.request.get(console.url + path, max_redirects=0)
    assert answer.status == 303 and answer.headers["location"] == "/sign-in"
    stranger.close()
    for who in (AGENT, ADMIN):
        tab.sign_in(who)
        html = tab.page.request.get(console.url + path)
        assert html.status == 200 and "Hello <b>world</b>" in html.text()
        assert "data:image/png;base64," in html.text() and web.url not in html.text().replace(
            f'data-remote-src="{web.url}/tracker.png"', "")
        policy = html.headers["content-security-policy"]
        assert "sandbox" in policy and "script-src" not in policy and "img-src data:;" in policy
        assert html.headers["x-frame-options"] == "SAMEORIGIN"
        remote = tab.page.request.get(console.url + path + "?remote=true")
        assert "img-src data: http: https:;" in remote.headers["content-security-policy"]
        assert f'src="{web.url}/tracker.png"' in remote.text()
        tab.page.get_by_role("button", name="Sign out").click()
        tab.page.get_by_role("button", name="Sign in").wait_for()  # signed out before the next signs in
