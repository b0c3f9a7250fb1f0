"""Making text safe to show a person: control characters visible, URLs without their secrets.

A source value is data, never layout: a newline in a userName must not start a forged
``+ create user ceo@...`` line in a plan, and an escape sequence must not repaint the terminal.
A URL may carry a secret in its userinfo, query or path (a webhook's token), so logs get only
its scheme and host.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

_URL_IN_TEXT = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_INVISIBLE_LAYOUT = frozenset(
    "\u2028\u2029"  # line and paragraph separators: a line break to a terminal
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"  # bidi embeddings, overrides, isolates
)


def _escaped(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with every control character written as an escape (``\\n``, ``\\x1b``, ``\\u202e``).

    Only controls (Unicode category Cc), line separators and bidi overrides are escaped: letters
    of every script, and joiners inside emoji and Indic names, are shown as they are. Backslashes
    are left alone (``DOMAIN\\user`` reads as written).
    """
    if text.isprintable():
        return text
    return "".join(
        _escaped(c) if unicodedata.category(c) == "Cc" or c in _INVISIBLE_LAYOUT else c for c in text
    )


def redact_url(url: str, *, keep_path: bool = False) -> str:
    """``scheme://host[:port]/…``: what a log may say about a URL.

    Userinfo, query and fragment are dropped and the path becomes ``/…``: any of them may be
    the secret (``https://hooks.example/services/T0/B0/XXXX``, ``?sig=…``). ``keep_path`` keeps
    the path of a SCIM base URL, where it says which endpoint was asked (``/scim/v2``) and holds
    no secret. A text that is no URL is not echoed either.
    """
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
        port = parts.port
    except ValueError:
        return "(an invalid URL)"
    if not parts.scheme or not host:
        return "(an invalid URL)"
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    if keep_path:
        rest = parts.path.rstrip("/") + ("?…" if parts.query else "")
    else:
        rest = "/…" if parts.path not in ("", "/") or parts.query or parts.fragment else ""
    return f"{parts.scheme}://{netloc}{rest}"


def redact_urls(text: str) -> str:
    """``text`` (an error message, say) with every URL in it reduced by :func:`redact_url`."""
    return _URL_IN_TEXT.sub(lambda match: redact_url(match.group(0)), text)
