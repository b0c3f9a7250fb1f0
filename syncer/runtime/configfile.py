"""YAML files to settings, with errors that cite ``file:line``.

The YAML is composed into nodes first so every key keeps the line it was written on; a
pydantic error's ``loc`` is then looked up in that table. In the config, ``${VAR}`` is replaced
from the environment, and a missing variable is an error at its line, never an empty token;
mapping files expand nothing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import structlog
import yaml
from pydantic import BaseModel, SecretStr, ValidationError

from syncer.adapters.nesting import MAX_DEPTH, yaml_too_deep
from syncer.errors import ConfigError
from syncer.runtime.presets import mapping_file
from syncer.runtime.secretshape import SecretKind, kind_of, secret_problem
from syncer.settings import (
    ConfigSettings,
    JobSettings,
    LdapSourceSettings,
    MappingFileSettings,
    ScimSourceSettings,
)

log = structlog.get_logger("syncer.config")
Lines = dict[tuple[Any, ...], int]
Variables = dict[tuple[Any, ...], tuple[str, ...]]
M = TypeVar("M", bound=BaseModel)
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SOURCE_TYPES = frozenset({"file", "ldap", "scim"})


@dataclass(frozen=True)
class YamlDocument:
    """Parsed YAML data with the line (1-based) of every key and list item, by ``loc`` path."""

    path: Path
    data: Any
    lines: Lines
    variables: Variables = field(default_factory=dict)
    """The ``${VAR}`` names each interpolated value came from, by ``loc``: errors name them."""

    def where(self, loc: tuple[Any, ...]) -> str:
        """``file:line`` of the deepest known part of ``loc``."""
        for end in range(len(loc), -1, -1):
            line = self.lines.get(tuple(loc[:end]))
            if line is not None:
                return f"{self.path}:{line}"
        return str(self.path)


class _Builder:
    """Builds plain data from composed YAML nodes, noting the line of every key and item."""

    def __init__(self, doc: Path, *, expand: bool) -> None:
        self.doc = doc
        self.expand = expand
        self.lines: Lines = {}
        self.variables: Variables = {}

    def build(self, node: yaml.Node, loc: tuple[Any, ...]) -> Any:
        self.lines.setdefault(loc, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = _scalar(key_node)
                if key in result:
                    raise ConfigError(f"duplicate key {key!r}", f"{self.doc}:{key_node.start_mark.line + 1}")
                self.lines[(*loc, key)] = key_node.start_mark.line + 1
                result[key] = self.build(value_node, (*loc, key))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*loc, i)) for i, item in enumerate(node.value)]
        value = _scalar(node)
        found = _ENV.search(value) if isinstance(value, str) else None
        if found is None:
            return value
        where = f"{self.doc}:{node.start_mark.line + 1}"
        if not self.expand:
            raise ConfigError(
                f"{found.group(0)}: mapping files expand no environment variables (a mapping is "
                "shared, and its values reach every target user, the plan and the state); write "
                "the value itself, or keep secrets in config.yaml",
                where,
            )
        self.variables[loc] = tuple(_ENV.findall(value))
        return _interpolate(value, where)


def _scalar(node: yaml.Node) -> Any:
    """A scalar's value, by the tag the composer resolved: an empty ``token:`` is ``None``.

    (Re-serialising the node for ``safe_load`` failed on an empty value with a parser traceback.)
    """
    return yaml.SafeLoader.construct_object(_CONSTRUCTOR, node, deep=True)


_CONSTRUCTOR = yaml.SafeLoader("")


def _interpolate(text: str, where: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise ConfigError(f"environment variable {name} is not set", where)
        return os.environ[name]

    return _ENV.sub(replace, text)


def load_yaml(path: Path, *, expand: bool = True) -> YamlDocument:
    """Read one YAML file keeping line numbers; syntax errors cite the file, line and column.

    ``expand`` replaces ``${VAR}`` from the environment (the config); without it a ``${VAR}`` is
    refused at its line (mapping files), since taken literally it would be sent as written.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ConfigError(f"cannot read: {reason}", str(path)) from exc
    try:
        too_deep = yaml_too_deep(text)
        if too_deep is not None:
            raise ConfigError(f"nested deeper than {MAX_DEPTH} levels", f"{path}:{too_deep}")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        column = f" (column {mark.column + 1})" if mark else ""
        raise ConfigError(f"invalid YAML: {exc.problem}{column}", where) from exc
    if node is not None:
        _expanded_size(node, path, {}, set())
    builder = _Builder(path, expand=expand)
    data = builder.build(node, ()) if node is not None else None
    return YamlDocument(path=path, data=data, lines=builder.lines, variables=builder.variables)


MAX_NODES = 100_000
"""Values a file may hold once its YAML aliases are expanded: a config or mapping holds hundreds."""


def _expanded_size(node: yaml.Node, path: Path, sizes: dict[int, int], open_nodes: set[int]) -> int:
    """How many nodes ``node`` becomes with every alias expanded, refusing an alias bomb.

    An alias is the anchored node itself, shared, so sizes are counted once per node: nine
    levels of nine aliases ("billion laughs") are refused in microseconds instead of building
    a billion values. Depth is bounded already (:func:`yaml_too_deep`).
    """
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in open_nodes:
        raise ConfigError("a YAML alias refers to the node that holds it (recursive)", _line(path, node))
    open_nodes.add(key)
    children: list[yaml.Node] = []
    if isinstance(node, yaml.MappingNode):
        children = [part for pair in node.value for part in pair]
    elif isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    size = 1 + sum(_expanded_size(child, path, sizes, open_nodes) for child in children)
    open_nodes.discard(key)
    if size > MAX_NODES:
        raise ConfigError(
            f"YAML aliases expand this to more than {MAX_NODES} values (an alias bomb?); "
            "write the values out, or use fewer aliases",
            _line(path, node),
        )
    sizes[key] = size
    return size


def _line(path: Path, node: yaml.Node) -> str:
    return f"{path}:{node.start_mark.line + 1}"


def _validation_errors(doc: YamlDocument, exc: ValidationError) -> ConfigError:
    messages = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        # pydantic adds the union member's tag to loc ('FileSourceSettings', or the discriminator
        # value right after 'source': ('jobs', 0, 'source', 'ldap', 'url')); drop it for lookup
        clean = tuple(
            part
            for index, part in enumerate(loc)
            if not (isinstance(part, str) and part.endswith("Settings"))
            and not (index > 0 and loc[index - 1] == "source" and part in _SOURCE_TYPES)
        )
        dotted = ".".join(str(p) for p in clean) or "(top level)"
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        elif error["type"] == "missing":
            message = "required key is missing"
        messages.append(f"{doc.where(clean)}: {dotted}: {message}")
    first = messages[0].split(": ", 1)
    return ConfigError("\n".join(m for m in [first[1], *messages[1:]]), first[0])


def validate_document(doc: YamlDocument, model: type[M]) -> M:
    """Validate a YAML document against a settings model, errors at their lines."""
    if not isinstance(doc.data, Mapping):
        raise ConfigError("expected a mapping at the top level", str(doc.path))
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        raise _validation_errors(doc, exc) from exc


@dataclass(frozen=True)
class LoadedMapping:
    """A mapping file's settings, with where each of its entries was written."""

    settings: MappingFileSettings
    document: YamlDocument


@dataclass(frozen=True)
class LoadedConfig:
    """The config with paths made absolute against the config file's folder, and its mappings."""

    path: Path
    settings: ConfigSettings
    document: YamlDocument
    mappings: Mapping[str, LoadedMapping]

    def resolve(self, path: Path) -> Path:
        return path if path.is_absolute() else (self.path.parent / path)


def load_mapping(path: Path) -> LoadedMapping:
    """A mapping file: nothing in it is expanded (see :func:`load_yaml`)."""
    doc = load_yaml(path, expand=False)
    return LoadedMapping(settings=validate_document(doc, MappingFileSettings), document=doc)


def load_config(path: Path) -> LoadedConfig:
    """Load config.yaml and every mapping it names; the first problem refuses the whole config."""
    doc = load_yaml(path)
    settings = validate_document(doc, ConfigSettings)
    mappings: dict[str, LoadedMapping] = {}
    for index, job in enumerate(settings.jobs):
        where = doc.where(("jobs", index, "mapping"))
        mappings[job.name] = load_mapping(mapping_file(job.mapping, path.parent, where))
    loaded = LoadedConfig(path=path, settings=settings, document=doc, mappings=mappings)
    for job in settings.jobs:
        _check_secrets(loaded, job)
    return loaded


def read_secret(
    config: LoadedConfig,
    job: JobSettings,
    value: SecretStr | None,
    file: Path | None,
    loc: tuple[str, ...],
) -> str | None:
    """A secret from the config (already ``${ENV}``-expanded) or from its ``*_file``; never echoed.

    ``loc`` is where the ``*_file`` key sits under the job (``("target", "token_file")``), so an
    unreadable file, or one that holds no secret of the right shape, is reported at its line.
    """
    if value is not None:
        return value.get_secret_value()
    if file is None:
        return None
    path = config.resolve(file)
    where = config.document.where(("jobs", config.settings.jobs.index(job), *loc))
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise ConfigError(f"cannot read {loc[-1]} {path}: {reason}", where) from exc
    problem = secret_problem(secret, kind_of(loc[-1]))
    if problem:
        raise ConfigError(f"{loc[-1]} {path}: the {kind_of(loc[-1]).value} {problem}", where)
    _warn_if_shared(path, where)
    return secret


def _warn_if_shared(path: Path, where: str) -> None:
    """Warn, once per read, when others on the machine may read a secret file (not fatal: a
    secret mounted by an orchestrator may be group-readable by design, but a token left 0644
    in a home directory is how tokens leak)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & 0o077:
        log.warning(
            "secret_file_readable_by_others",
            file=str(path),
            mode=oct(mode & 0o777),
            where=where,
            hint=f"chmod 600 {path}",
        )


def read_token(config: LoadedConfig, job: JobSettings) -> str | None:
    """The target's bearer token from the config or from ``token_file``."""
    target = job.target
    return read_secret(config, job, target.token, target.token_file, ("target", "token_file"))


def _job_secrets(job: JobSettings) -> list[tuple[tuple[str, ...], SecretStr | None, Path | None]]:
    """Every secret of a job: where its key sits, its inline value, its file."""
    found: list[tuple[tuple[str, ...], SecretStr | None, Path | None]] = [
        (("target", "token"), job.target.token, job.target.token_file)
    ]
    source = job.source
    if isinstance(source, ScimSourceSettings):
        found.append((("source", "token"), source.token, source.token_file))
    for where, service in (("target", job.target), ("source", source)):
        auth = getattr(service, "auth", None)
        if auth is not None:
            found.append(((where, "auth", "client_secret"), auth.client_secret, auth.client_secret_file))
    if isinstance(source, LdapSourceSettings):
        found.append((("source", "password"), source.password, source.password_file))
    if job.notify.email is not None:
        found.append((("notify", "email", "password"), job.notify.email.password, None))
    return found


def _check_secrets(config: LoadedConfig, job: JobSettings) -> None:
    """Refuse, at load, a secret that cannot be one: the wrong file, a broken variable.

    A ``*_file`` that cannot be read yet is left to the cycle that reads it (a secret mounted at
    start-up must not fail ``validate`` on a build machine); one that can be read is checked now.
    """
    prefix = ("jobs", config.settings.jobs.index(job))
    doc = config.document
    for loc, inline, file in _job_secrets(job):
        if inline is None and file is None and _written_empty(doc.data, (*prefix, *loc)):
            raise ConfigError(
                f"{_named(doc, (*prefix, *loc))}: the key is there but its value is empty; write "
                f"the {kind_of(loc[-1]).value} as ${{VARIABLE}}, or use {loc[-1]}_file, or drop the key",
                doc.where((*prefix, *loc)),
            )
        if inline is not None:
            problem = secret_problem(inline.get_secret_value(), kind_of(loc[-1]))
            if problem:
                raise ConfigError(
                    f"{_named(doc, (*prefix, *loc))}: the {kind_of(loc[-1]).value} {problem}",
                    doc.where((*prefix, *loc)),
                )
        elif file is not None and config.resolve(file).is_file():
            read_secret(config, job, None, file, (*loc[:-1], f"{loc[-1]}_file"))
    if job.notify.webhook is not None:
        for name, value in job.notify.webhook.headers.items():
            header_loc = (*prefix, "notify", "webhook", "headers", name)
            problem = secret_problem(value, SecretKind.HEADER)
            if problem:
                raise ConfigError(
                    f"{_named(doc, header_loc)}: the header value {problem}", doc.where(header_loc)
                )


def _written_empty(data: Any, loc: tuple[Any, ...]) -> bool:
    """Whether the key at ``loc`` is in the file with no value (``token:``): not the same as absent.

    Absent means "this target takes no token"; a key left empty is a token the admin forgot, and
    sending nothing would only surface later as a 401 from the target.
    """
    for part in loc[:-1]:
        if isinstance(data, Mapping):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return False
    return isinstance(data, Mapping) and loc[-1] in data and data[loc[-1]] is None


def _named(doc: YamlDocument, loc: tuple[Any, ...]) -> str:
    """``jobs.0.target.token`` and, when it came from the environment, ``(from $APP_TOKEN)``."""
    dotted = ".".join(str(part) for part in loc)
    names = doc.variables.get(loc)
    return f"{dotted} (from {', '.join('$' + n for n in names)})" if names else dotted
