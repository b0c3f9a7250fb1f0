"""Filters as the SaaS targets take them: ``eq`` (joined by ``and``) on a few attributes per kind.

AWS IAM Identity Center, Entra ID and Asana refuse any other filter with 400 ``invalidFilter``
rather than answer it (docs: AWS limitations.html, Entra's SCIM API reference, Asana's SCIM
docs); Databricks refuses a filter of more than 200 nodes. The parsing here is the targets'
small grammar, not RFC 7644's: a filter outside it is refused, which is what they do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from tests.support.quirk_target import Behaviour, QuirkTarget, Request, Response, scim_error

TOKEN = re.compile(r'\s*("(?:[^"\\]|\\.)*"|\(|\)|\[|\]|[^\s()\[\]"]+)')
LOGICAL = frozenset({"and", "or", "not"})
OPERATORS = frozenset({"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr"})


def tokens(text: str) -> list[str]:
    found = TOKEN.findall(text)
    if "".join(found).replace(" ", "") != text.replace(" ", ""):
        raise ValueError(f"cannot read the filter {text!r}")
    return found


def comparisons(text: str) -> list[tuple[str, str, str]] | None:
    """``[(attribute, "eq", literal), ...]`` for ``a eq "x" and b eq "y"``; ``None`` for anything else."""
    words = tokens(text)
    found: list[tuple[str, str, str]] = []
    i = 0
    while i + 2 < len(words):
        attribute, operator, literal = words[i], words[i + 1], words[i + 2]
        if operator.lower() != "eq" or attribute in "()[]" or literal in "()[]":
            return None
        found.append((attribute, operator, literal))
        i += 3
        if i == len(words):
            return found
        if words[i].lower() != "and":
            return None
        i += 1
    return None


def node_count(text: str) -> int:
    """Comparisons and logical operators, as Databricks counts a filter's nodes."""
    words = [w.lower() for w in tokens(text)]
    return sum(1 for w in words if w in OPERATORS or w in LOGICAL)


class EqFilterOn(Behaviour):
    """400 ``invalidFilter`` to a filter other than ``attr eq value [and ...]`` on ``attributes``.

    ``attributes`` names, per resource (``Users``, ``Groups``), the attributes a filter may name,
    lower case.
    """

    def __init__(self, attributes: Mapping[str, frozenset[str]]) -> None:
        self.attributes = attributes

    def refuse(self, request: Request, target: QuirkTarget) -> Response | None:
        text = request.param("filter")
        if request.method != "GET" or text is None:
            return None
        allowed = self.attributes.get(request.resource, frozenset())
        parts = comparisons(text)
        if parts is None:
            return scim_error(400, f"unsupported filter: {text}", "invalidFilter")
        for attribute, _, _ in parts:
            if attribute.lower() not in allowed:
                return scim_error(400, f"filtering on {attribute} is not supported", "invalidFilter")
        return None


class MaxFilterNodes(Behaviour):
    """400 ``invalidFilter`` to a filter of more than ``limit`` nodes (Databricks: 200)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def refuse(self, request: Request, target: QuirkTarget) -> Response | None:
        text = request.param("filter")
        if text is not None and node_count(text) > self.limit:
            return scim_error(400, f"a filter has at most {self.limit} nodes", "invalidFilter")
        return None
