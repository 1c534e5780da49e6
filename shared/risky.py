"""Attachment types that run code or script when a person opens them: shown flagged on the item, never
attached to mail we send. Judged by the real last extension (``a.pdf.exe`` is an ``exe``) and by the
declared type, whichever says risky."""

from __future__ import annotations

# Programs and scripts (Windows, macOS, Linux, Java, Android), installers and shortcuts, disk images
# that mount with their programs, Office files with macros, and pages that run script when opened.
RISKY_EXTENSIONS = frozenset({
    "exe", "com", "scr", "pif", "bat", "cmd", "cpl", "dll", "sys", "msi", "msp", "msc", "lnk", "url", "reg",
    "vbs", "vbe", "js", "jse", "wsf", "wsh", "ps1", "psm1", "psd1", "hta", "jar", "apk", "app", "sh", "bash",
    "command", "iso", "img", "vhd", "vhdx", "dmg", "pkg", "docm", "dotm", "xlsm", "xltm", "xlam", "pptm", "potm",
    "ppam", "html", "htm", "xhtml", "svg", "chm", "application", "appref-ms", "gadget", "scf", "inf",
})
RISKY_TYPES = frozenset({
    "application/x-msdownload", "application/x-dosexec", "application/x-msdos-program", "application/x-msi",
    "application/x-sh", "application/x-shellscript", "application/java-archive", "application/hta",
    "application/vnd.android.package-archive", "application/x-apple-diskimage", "application/x-iso9660-image",
    "application/vnd.ms-excel.sheet.macroenabled.12", "application/vnd.ms-word.document.macroenabled.12",
    "application/vnd.ms-powerpoint.presentation.macroenabled.12", "text/html", "application/xhtml+xml",
    "image/svg+xml", "application/javascript", "text/javascript", "application/x-javascript",
})


def _extension(filename: str) -> str:
    stem, dot, ext = filename.strip().rstrip(". ").rpartition(".")
    return ext.lower() if dot and ext else ""


def risk(filename: str, content_type: str) -> str | None:
    """Why this attachment is risky to open, or None."""
    ext = _extension(filename)
    if ext in RISKY_EXTENSIONS:
        return f"a .{ext} file runs code or script when opened"
    declared = content_type.split(";")[0].strip().lower()
    if declared in RISKY_TYPES:
        return f"its type {declared} runs code or script when opened"
    return None
