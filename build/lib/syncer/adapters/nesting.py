"""How deep a JSON or YAML text nests, found without recursion.

Python's JSON decoder and PyYAML's composer recurse once per level: a document nested 1,000 deep
ends in a ``RecursionError`` traceback (PyYAML already near 500). Every reader of user-supplied
JSON or YAML (config, mapping files, file sources) checks first, or on that error, and refuses
the file with the line where it went too deep. Shared by ``runtime.configfile`` and
``adapters.sources.files``, so it sits in no adapter package of its own.
"""

from __future__ import annotations

import re

import yaml

MAX_DEPTH = 100
"""Far above any real config, mapping or directory file (they nest fewer than 10 levels)."""

_JSON_TOKENS = re.compile(r'"(?:[^"\\\n]|\\.)*"|[\[\]{}]|\n')


def yaml_too_deep(text: str, limit: int = MAX_DEPTH) -> int | None:
    """The 1-based line where ``text`` first nests deeper than ``limit``, or ``None``.

    Reads parser events (a state machine, no recursion); syntax errors raise PyYAML's
    ``MarkedYAMLError`` as :func:`yaml.compose` would.
    """
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > limit:
                return event.start_mark.line + 1 if event.start_mark else 1
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return None


def json_too_deep(text: str, limit: int = MAX_DEPTH) -> int | None:
    """The 1-based line where JSON ``text`` first nests deeper than ``limit``, or ``None``.

    Brackets inside strings do not count. Meant for text that parses (or failed with a
    ``RecursionError``); on invalid JSON the answer is approximate, never an exception.
    """
    depth, line = 0, 1
    for match in _JSON_TOKENS.finditer(text):
        token = match.group(0)
        if token == "\n":
            line += 1
        elif token in "[{":
            depth += 1
            if depth > limit:
                return line
        elif token in "]}":
            depth -= 1
    return None
