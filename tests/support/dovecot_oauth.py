"""A real Dovecot whose only passdb is ``oauth2``: a login with XOAUTH2/OAUTHBEARER is checked
against a local RFC 7662 introspection endpoint served from the test process, which knows the
tokens the test accepts. Private config, free loopback ports, all state in a scratch directory."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

from tests.support.servers import free_port, port_answers
from tests.support.waiting import wait_for

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


@dataclass
class Introspection:
    """token -> user name; anything else is inactive."""

    tokens: dict[str, str] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def serve(self) -> ThreadingHTTPServer:
        known = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                token = parse_qs(body).get("token", [""])[0]
                known.asked.append(token)
                user = known.tokens.get(token)
                answer = {"active": "true", "username": user} if user else {"active": "false"}
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


class OAuthDovecot:
    def __init__(self, introspection_port: int) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="postroom-dovecot-oauth-"))
        self.root.chmod(0o755)
        self.imap_port, self.pop3_port = free_port(), free_port()
        nobody = pwd.getpwnam("nobody")
        self._uid = os.getuid() if os.getuid() != 0 else nobody.pw_uid
        self._gid = os.getgid() if os.getuid() != 0 else nobody.pw_gid
        self._introspection = f"http://127.0.0.1:{introspection_port}/introspect"

    def _render(self) -> str:
        return f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
protocols = imap pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = xoauth2 oauthbearer
log_path = {self.root}/dovecot.log
mail_location = maildir:~/Maildir
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = 1
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {self.root}/oauth2.conf
}}
userdb {{
  driver = static
  args = uid={self._uid} gid={self._gid} home={self.root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {self.pop3_port}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
"""

    def start(self) -> OAuthDovecot:
        (self.root / "oauth2.conf").write_text(
            f"introspection_mode = post\nintrospection_url = {self._introspection}\nforce_introspection = yes\n"
            "username_attribute = username\nactive_attribute = active\nactive_value = true\n")
        (self.root / "home").mkdir()
        os.chown(self.root / "home", self._uid, self._gid)
        self.config = self.root / "dovecot.conf"
        self.config.write_text(self._render())
        # The daemon keeps inherited pipes open: never capture its output, or run() waits for good.
        subprocess.run([DOVECOT, "-c", str(self.config)], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        wait_for(lambda: port_answers(self.imap_port) and port_answers(self.pop3_port), timeout=20,
                 what="dovecot listening")
        return self


    def stop(self) -> None:
        subprocess.run([DOVECOT, "-c", str(self.config), "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def oauth_dovecot() -> Iterator[tuple[OAuthDovecot, Introspection]]:
    """A Dovecot that accepts the bearer tokens its introspection endpoint knows, both running."""
    known = Introspection()
    http = known.serve()
    server = OAuthDovecot(http.server_address[1]).start()
    try:
        yield server, known
    finally:
        server.stop()
        http.shutdown()
        http.server_close()
