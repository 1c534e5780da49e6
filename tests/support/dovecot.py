"""A real Dovecot (Debian's ``dovecot-imapd dovecot-pop3d``) started by the tests with a private
configuration on free loopback ports, all its state in a scratch directory.

Dovecot re-reads a changed passwd-file only now and then (a user added a moment ago may be refused),
so the file is written once at start with a pool of users: one server serves every test, each test
takes a fresh user (an empty mailbox). ``special`` users get passwd-file extra fields.
"""

from __future__ import annotations

import datetime as dt
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from imapclient import IMAPClient

from tests.support.servers import free_port, port_answers

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path


def self_signed_certificate(directory: Path, name: str = "localhost") -> TlsFiles:
    """A self-signed certificate for ``localhost`` and 127.0.0.1 (not trusted by anyone by default)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    files = TlsFiles(directory / f"{name}-cert.pem", directory / f"{name}-key.pem")
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
    files.key.chmod(0o600)
    return files


class DovecotServer:
    """``imap_port``/``pop3_port`` are plain (with STARTTLS/STLS offered when ``tls`` is given);
    ``imaps_port``/``pop3s_port`` speak TLS from the first byte (only with ``tls``)."""

    def __init__(self, tls: bool = False, pool: int = 300, special: dict[str, str] | None = None) -> None:
        self._pool = [(f"u{n:04d}{uuid.uuid4().hex[:6]}", f"pw-{uuid.uuid4().hex}") for n in range(pool)]
        self._special = {name: (f"{name}-{uuid.uuid4().hex[:6]}", f"pw-{uuid.uuid4().hex}", extra)
                         for name, extra in (special or {}).items()}
        self.root = Path(tempfile.mkdtemp(prefix="postroom-dovecot-"))
        self.root.chmod(0o755)  # the mail processes run as an unprivileged user when we are root
        self.tls = self_signed_certificate(self.root) if tls else None
        self.imap_port, self.pop3_port = free_port(), free_port()
        self.imaps_port, self.pop3s_port = (free_port(), free_port()) if tls else (0, 0)
        self.config = self.root / "dovecot.conf"
        self.passwd = self.root / "passwd"
        self.home = self.root / "home"
        self.log = self.root / "dovecot.log"
        self._uid = os.getuid() if os.getuid() != 0 else pwd.getpwnam("nobody").pw_uid
        self._gid = os.getgid() if os.getuid() != 0 else pwd.getpwnam("nobody").pw_gid

    def _render(self) -> str:
        ssl = "no"
        if self.tls:
            ssl = f"yes\nssl_cert = <{self.tls.cert}\nssl_key = <{self.tls.key}"
        return f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
protocols = imap pop3
listen = 127.0.0.1
ssl = {ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = {self.log}
mail_location = maildir:~/Maildir
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = 1
# inotify tells IDLE sessions at once; this is only the fallback.
mailbox_idle_check_interval = 1 secs
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.passwd}
}}
userdb {{
  driver = static
  args = uid={self._uid} gid={self._gid} home={self.home}/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = {self.imaps_port}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {self.pop3_port}
  }}
  inet_listener pop3s {{
    port = {self.pop3s_port}
    ssl = yes
  }}
}}
"""

    def start(self) -> DovecotServer:
        self.config.write_text(self._render())
        lines = [f"{user}:{{PLAIN}}{password}::::::" for user, password in self._pool]
        lines += [f"{user}:{{PLAIN}}{password}::::::{extra}" for user, password, extra in self._special.values()]
        self.passwd.write_text("\n".join(lines) + "\n")
        self.home.mkdir()
        os.chown(self.home, self._uid, self._gid)
        # The daemon keeps inherited pipes open: give it none, or run() would wait for it to exit.
        subprocess.run([DOVECOT, "-c", str(self.config)], check=True, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
        deadline = time.monotonic() + 15
        while not (port_answers(self.imap_port) and port_answers(self.pop3_port)):
            if time.monotonic() > deadline:
                raise RuntimeError(f"dovecot did not start: {self.log.read_text() if self.log.exists() else ''}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        subprocess.run([DOVECOT, "-c", str(self.config), "stop"], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
        shutil.rmtree(self.root, ignore_errors=True)

    def add_user(self) -> MailUser:
        """A user nobody used yet: an empty mailbox."""
        name, password = self._pool.pop()
        return MailUser(self, name, password)

    def special_user(self, name: str) -> MailUser:
        user, password, _ = self._special[name]
        return MailUser(self, user, password)


@dataclass
class MailUser:
    server: DovecotServer
    name: str
    password: str

    def imap(self) -> IMAPClient:
        client = IMAPClient("127.0.0.1", self.server.imap_port, ssl=False, timeout=10)
        client.login(self.name, self.password)
        return client

    def append(self, raw: bytes, folder: str = "INBOX", flags: Iterable[bytes] = ()) -> int:
        """APPEND one mail; return its UID (Dovecot answers APPENDUID, RFC 4315)."""
        with self.imap() as client:
            answer = client.append(folder, raw, flags=tuple(flags))
        return int(answer.split(b"]")[0].split()[-1])

    def flags(self, folder: str = "INBOX") -> dict[int, tuple[bytes, ...]]:
        """UID -> flags of every mail in ``folder``."""
        with self.imap() as client:
            client.select_folder(folder, readonly=True)
            return {uid: data[b"FLAGS"] for uid, data in client.fetch(client.search(["ALL"]), ["FLAGS"]).items()}

    def uidvalidity(self, folder: str = "INBOX") -> int:
        with self.imap() as client:
            return int(client.folder_status(folder, ["UIDVALIDITY"])[b"UIDVALIDITY"])

    def create_folder(self, folder: str) -> None:
        with self.imap() as client:
            client.create_folder(folder)

    @property
    def maildir(self) -> Path:
        return self.server.home / self.name / "Maildir"

    def write_maildir(self, raws: Iterable[bytes]) -> int:
        """Put mails straight into ``~/Maildir/new`` (much faster than APPEND for thousands)."""
        return len(self.deliver_maildir((f"n{n}", raw) for n, raw in enumerate(raws)))

    def deliver_maildir(self, mails: Iterable[tuple[str, bytes]]) -> list[str]:
        """Deliver ``(tag, raw)`` pairs as an MTA does (written in ``tmp``, renamed into ``new``: a
        running Dovecot never sees half a file); ``tag`` ends the file name. Return the names."""
        maildir = self.maildir
        for sub in ("cur", "new", "tmp"):
            (maildir / sub).mkdir(parents=True, exist_ok=True)
        for path in (self.server.home / self.name, maildir, maildir / "cur", maildir / "new", maildir / "tmp"):
            os.chown(path, self.server._uid, self.server._gid)
        names = []
        for tag, raw in mails:
            # time.unique.host (the Maildir convention); the uuid keeps two calls in a second apart
            name = f"{int(time.time())}.P{os.getpid()}Q{uuid.uuid4().hex[:12]}.{tag}"
            tmp = maildir / "tmp" / name
            tmp.write_bytes(raw)
            os.chown(tmp, self.server._uid, self.server._gid)
            tmp.rename(maildir / "new" / name)
            names.append(name)
        return names

    def uids_by_file(self) -> dict[str, int]:
        """File name -> UID of the mails Dovecot has indexed (its ``dovecot-uidlist``; a SELECT or
        any session's sync adds newly delivered files)."""
        path = self.maildir / "dovecot-uidlist"
        if not path.exists():
            return {}
        out = {}
        for line in path.read_text(errors="replace").splitlines()[1:]:  # the first line is the header
            uid, sep, name = line.partition(" :")
            if sep:
                out[name.split(":", 1)[0]] = int(uid.split()[0])
        return out


def sample_mail(n: int, size: int = 0, subject: str = "") -> bytes:
    """A small RFC 5322 mail, unique by ``n``; ``size`` pads the body to about that many bytes."""
    body = f"Mail number {n}.\r\n"
    if size > len(body):
        line = "lorem ipsum dolor sit amet " * 2 + "\r\n"
        body += line * ((size - len(body)) // len(line) + 1)
    return (f"From: Someone <someone{n}@example.org>\r\nTo: support@example.com\r\n"
            f"Subject: {subject or f'Mail {n}'}\r\nMessage-ID: <mail-{n}-{uuid.uuid4().hex[:8]}@example.org>\r\n"
            f"Date: Thu, 26 Nov 2026 10:00:00 +0000\r\n\r\n{body}").encode()
