"""TNEF (winmail.dat) unpacking, and ``postroom parse``."""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path

from click.testing import CliRunner

from services.cli.main import cli
from tests.support.corpus import CORPUS
from tests.unit.parser.conftest import parse


def _attr(level: int, attr_id: int, data: bytes) -> bytes:
    return struct.pack("<BII", level, attr_id, len(data)) + data + struct.pack("<H", sum(data) & 0xFFFF)


def _winmail(name: bytes, data: bytes) -> bytes:
    """A minimal TNEF stream: signature, version, one attachment (rendering, title, data)."""
    return (struct.pack("<IH", 0x223E9F78, 1) + _attr(1, 0x00089006, struct.pack("<I", 0x00010000))
            + _attr(2, 0x00069002, b"\x01\x00\x00\x00\xff\xff\xff\xff" + b"\x00" * 6)
            + _attr(2, 0x00018010, name + b"\x00") + _attr(2, 0x0006800F, data))


def _mail_with(part_type: str, filename: str, data: bytes) -> str:
    return ('From: a@example.com\r\nSubject: s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="B"\r\n\r\n'
            "--B\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
            f'--B\r\nContent-Type: {part_type}; name="{filename}"\r\nContent-Transfer-Encoding: base64\r\n'
            f"Content-Disposition: attachment\r\n\r\n{base64.b64encode(data).decode()}\r\n--B--\r\n")


def test_a_winmail_dat_is_unpacked_and_the_original_kept() -> None:
    """The real attachment is listed after the TNEF file it came in."""
    mail = parse(_mail_with("application/ms-tnef", "winmail.dat", _winmail(b"report.txt", b"hello tnef")))
    assert [(a.filename, a.content_type, a.size) for a in mail.attachments] == [
        ("winmail.dat", "application/ms-tnef", len(_winmail(b"report.txt", b"hello tnef"))),
        ("report.txt", "text/plain", 10)]


def test_names_inside_tnef_are_sanitized_too() -> None:
    """A path in a TNEF title is cut to its last part."""
    mail = parse(_mail_with("application/ms-tnef", "winmail.dat", _winmail(b"..\\..\\evil.exe", b"MZ")))
    assert mail.attachments[1].filename == "evil.exe" and mail.attachments[1].extension == "exe"


def test_a_broken_tnef_keeps_the_original_and_records_a_defect() -> None:
    """Garbage in winmail.dat: the file stays, nothing more is invented."""
    mail = parse(_mail_with("application/ms-tnef", "winmail.dat", b"not tnef at all"))
    assert [a.filename for a in mail.attachments] == ["winmail.dat"]
    assert any("TNEF not unpacked" in d for d in mail.defects)


def test_parse_json_prints_one_message_per_file_without_blobs() -> None:
    """--json: one line per file with the published message; attachments are not stored."""
    files = [CORPUS / "redmine-mail-handler" / "ticket_with_attachment.eml",
             CORPUS / "talon" / "standard_replies" / "gmail.eml"]
    result = CliRunner().invoke(cli, ["parse", "--json", *map(str, files)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [Path(line["file"]).name for line in lines] == ["ticket_with_attachment.eml", "gmail.eml"]
    first = lines[0]["message"]
    assert first["subject"] == "Ticket created by email with attachment"
    assert first["from"] == {"name": "John Smith", "address": "jsmith@somenet.foo"}
    assert first["attachments"][0]["blob"] is None and first["attachments"][0]["filename"] == "Paella.jpg"
    assert lines[1]["message"]["reply_text"] == "Hello"
    assert lines[1]["message"]["classification"] == {"kind": "human", "reason": ""}


def test_parse_prints_a_readable_summary(tmp_path: Path) -> None:
    """Without --json: headers, kind, attachments, defects and the text, for a person."""
    result = CliRunner().invoke(cli, ["parse", str(CORPUS / "redmine-mail-handler" / "ticket_with_attachment.eml")])
    assert result.exit_code == 0
    assert "Subject:     Ticket created by email with attachment" in result.output
    assert "Attachment:  Paella.jpg (image/jpeg, 10790 bytes)" in result.output
    assert "This is  a new ticket with attachments" in result.output


def test_parse_reports_a_rejected_file_and_exits_non_zero(tmp_path: Path) -> None:
    """A mail past a limit is named with the reason; the exit status says something failed."""
    big = tmp_path / "big.eml"
    big.write_bytes(b"Subject: s\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\nbody\r\n")
    result = CliRunner().invoke(cli, ["parse", "--json", str(big)])
    assert result.exit_code == 1
    assert "exceeds the limit" in json.loads(result.output.splitlines()[0])["rejected"]
