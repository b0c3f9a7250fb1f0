"""What a secret must look like before syncer sends it anywhere.

A bearer token is one line of printable characters without spaces; a password is one line; a
header value has no line break. Anything else is almost always the wrong file (``/etc/shadow``,
a PEM key) or a broken variable, and sending it would have httpx echo it in an error. The
problems named here never quote the value.
"""

from __future__ import annotations

import re
from enum import Enum

_UNBRACED = re.compile(r"^\$[A-Za-z_][A-Za-z0-9_]*$")


class SecretKind(Enum):
    """The shapes of secrets: the rules differ (a password may hold a space, a token may not)."""

    TOKEN = "token"
    CLIENT_SECRET = "client secret"
    PASSWORD = "password"
    HEADER = "header value"


def _controls(value: str) -> bool:
    return any(ord(c) < 0x20 or ord(c) == 0x7F for c in value)


def secret_problem(value: str, kind: SecretKind) -> str | None:
    """Why ``value`` cannot be a secret of this kind, in words that never contain the value.

    (One exception: a bare ``$NAME`` is quoted, since it is a variable's name, not a secret.)
    """
    if kind is not SecretKind.HEADER and not value:
        return "is empty"
    if kind is not SecretKind.HEADER and _UNBRACED.match(value):
        return (
            f"is {value}, an environment variable written without braces (taken literally, it "
            f"would be sent as written): write ${{{value[1:]}}}"
        )
    if "\n" in value or "\r" in value:
        return f"must be one line, but holds {value.count(chr(10)) + 1} lines (is it the right file?)"
    if kind is SecretKind.TOKEN and any(c.isspace() for c in value):
        return "must be the bare token: one line without spaces (no 'Bearer ' prefix)"
    if kind is SecretKind.CLIENT_SECRET and any(c.isspace() for c in value):
        return "must be one line without spaces (the secret's value, not its name or id)"
    if _controls(value):
        return "holds control characters"
    if kind is not SecretKind.PASSWORD and not value.isascii():
        return "must be ASCII (an HTTP header cannot carry other characters)"
    return None


def kind_of(key: str) -> SecretKind:
    """The kind of secret a config key holds: a password, a client secret, or a token."""
    if key.startswith("password"):
        return SecretKind.PASSWORD
    return SecretKind.CLIENT_SECRET if key.startswith("client_secret") else SecretKind.TOKEN
