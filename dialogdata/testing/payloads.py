"""Markup payloads and a scanner that finds them in written files (for reports that must stay inert)."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote

XSS_PAYLOADS = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "</td></tr><td onmouseover=alert(1)>",
)
"""Payloads to plant in texts, tool arguments, metadata and file names."""

_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def find_unescaped(
    folder: Path, payloads: Sequence[str] = XSS_PAYLOADS, *, decode: bool = True
) -> list[tuple[Path, str]]:
    """Return (file, payload) for each payload found in `folder` (a folder or one file), names included.

    A payload is found as written, or as JSON writes it (quotes escaped). With `decode`, text that
    turns into a payload once HTML entities, `\\uXXXX` escapes or %-escapes are decoded counts too:
    some renderer down the line may decode it, so a folder meant to hold no data text must hold none.
    """
    found = []
    folder = Path(folder)
    for path in [folder] if folder.is_file() else sorted(folder.rglob("*")):
        forms = _forms(path.name, decode)
        if path.is_file():
            forms += _forms(path.read_bytes().decode("utf-8", "replace"), decode)
        for payload in payloads:
            needles = (payload, json.dumps(payload, ensure_ascii=False)[1:-1])
            if any(needle in form for needle in needles for form in forms):
                found.append((path, payload))
    return found


def assert_no_payloads(folder: Path, payloads: Sequence[str] = XSS_PAYLOADS, *, decode: bool = True) -> None:
    """Assert that no file under `folder` holds a payload, escaped or not (see `find_unescaped`)."""
    found = find_unescaped(folder, payloads, decode=decode)
    assert not found, "payloads found: " + "; ".join(f"{path}: {payload!r}" for path, payload in found)


def _forms(text: str, decode: bool) -> list[str]:
    """Return `text` and, with `decode`, its HTML-, JSON- and URL-decoded forms."""
    if not decode:
        return [text]
    unescaped = _JSON_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return [text, html.unescape(text), unescaped, html.unescape(unescaped), unquote(text)]
