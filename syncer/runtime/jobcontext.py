"""``JobContext``: everything built once per job, and the one place that wires a job's parts.

``plan``, ``sync``, ``apply``, the daemon, ``provision`` and ``test-connection`` all take their
mapping, scope, source, client, state, evaluation context, planning request and executor from
here, so no command can drift from another (on demand once built its own client and forgot the
job's ``update_method``, ``dialect`` and ``default_domain``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

import httpx

from syncer import __version__
from syncer.adapters.scim.client import ScimClient
from syncer.adapters.scim.oauth import ClientCredentials, ClientCredentialsAuth
from syncer.adapters.scim.pacing import BudgetScope, WriteBudget, WriteBudgets, shared_budget
from syncer.adapters.sources.base import Source
from syncer.adapters.sources.files import FileSource
from syncer.adapters.sources.scim import ScimSource
from syncer.adapters.state.store import StateStore
from syncer.core.changes import PlanInputs, Skip
from syncer.core.expressions import EvaluationContext
from syncer.core.intake import Intake
from syncer.core.mapping import CompiledMapping, compile_mapping
from syncer.core.matching import Match
from syncer.core.planning import PlanRequest
from syncer.core.policy import escrow_delay
from syncer.core.refusals import Grounds
from syncer.core.scoping import (
    AssignedScope,
    Assignment,
    JobScope,
    ScopingFilter,
    compile_filter,
    resolve_assignment,
)
from syncer.errors import SourceError
from syncer.runtime.capabilities import pagination
from syncer.runtime.configfile import LoadedConfig, read_secret, read_token
from syncer.runtime.executor import Executor
from syncer.runtime.lookups import must_list
from syncer.settings import JobSettings, LdapSourceSettings, ScimSourceSettings, ServiceAuth
from syncer.settings.target import TargetSettings
from syncer.types import Desired, JobState, ObjectKey, ObjectKind, SourceSnapshot

Key = ObjectKey


def state_url(config: LoadedConfig) -> str:
    """The state URL, with a relative SQLite path taken from the config file's folder, not the CWD."""
    url = config.settings.state
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix + ":memory:":
        return prefix + str(config.resolve(Path(url[len(prefix) :])))
    return url


def compiled_mapping(config: LoadedConfig, job: JobSettings) -> CompiledMapping:
    """The job's mapping, checked against the source's declared attributes and the job's settings."""
    loaded = config.mappings[job.name]
    declared = getattr(job.source, "attributes", None)  # only the file source declares its attributes
    return compile_mapping(
        loaded.settings,
        file=str(loaded.document.path),
        lines=loaded.document.lines,
        user_attributes=declared.users if declared else None,
        group_attributes=declared.groups if declared else None,
        default_domain=job.default_domain is not None,
    )


def mapping_digest(config: LoadedConfig, job: JobSettings) -> str:
    """The job's mapping file, digested: part of a refusal's fingerprint (``core.refusals``)."""
    return "sha256:" + hashlib.sha256(config.mappings[job.name].document.path.read_bytes()).hexdigest()


def config_fingerprint(config: LoadedConfig, job: JobSettings) -> str:
    digest = hashlib.sha256(config.path.read_bytes())
    digest.update(config.mappings[job.name].document.path.read_bytes())
    return "sha256:" + digest.hexdigest()


def _dumped(groups: Sequence[Sequence[Any]]) -> list[list[dict[str, Any]]]:
    return [[clause.model_dump() for clause in group] for group in groups]


def compiled_scope(config: LoadedConfig, job: JobSettings) -> JobScope:
    """The job's scope, compiled; a bad clause refuses the config with its file and line."""
    index = config.settings.jobs.index(job)
    loaded = config.mappings[job.name]
    users: list[ScopingFilter] = []
    groups: list[ScopingFilter] = []
    # (filter clauses, label, where a clause is in its file); the job's own first, then the mapping's
    sources = (
        (job.scope, "", lambda *p: config.document.where(("jobs", index, "scope", *p))),
        (loaded.settings.scoping, "mapping ", lambda *p: loaded.document.where(("scoping", *p))),
    )
    for block, prefix, where in sources:
        for kind, into in (("users", users), ("groups", groups)):
            clauses = getattr(block, kind)
            if clauses:

                def at(g: int, c: int, kind: str = kind, where: Callable[..., str] = where) -> str:
                    return where(kind, g, c)

                into.append(
                    compile_filter(_dumped(clauses), label=f"{prefix}{kind} scoping filter", where=at)
                )
    return JobScope(
        assignment=Assignment(tuple(job.scope.assigned_groups), job.scope.nested),
        users=tuple(users),
        groups=tuple(groups),
    )


def assigned_scope(job: JobSettings, scope: JobScope, snapshot: SourceSnapshot) -> AssignedScope:
    """The assigned groups (and, nested, their subgroups) resolved on this read of the source."""
    try:
        return resolve_assignment(scope.assignment, snapshot.groups)
    except ValueError as exc:
        raise SourceError(f"job {job.name}: {exc}; nothing was changed") from exc


def open_source(config: LoadedConfig, job: JobSettings) -> Source:
    """The job's source, by its ``type``; connects to nothing, so ``syncer validate`` stays offline."""
    source = job.source
    if isinstance(source, LdapSourceSettings):
        from syncer.adapters.sources.ldap import LdapSource  # ldap3 loads only for jobs that use it

        where = ("source", "password_file")
        password = read_secret(config, job, source.password, source.password_file, where)
        ca_file = config.resolve(source.ca_file) if source.ca_file else None
        return LdapSource(source, password=password, ca_file=ca_file)
    if isinstance(source, ScimSourceSettings):
        return _scim_source(config, job, source)
    groups = config.resolve(source.groups_path) if source.groups_path else None
    return FileSource(
        config.resolve(source.path),
        groups,
        delimiter=source.users_delimiter,
        groups_delimiter=source.groups_delimiter,
        members_separator=source.members_separator,
        encoding=source.encoding,
        settle=source.settle_time.total_seconds(),  # trustsrc hook: a file still being written
    )


def _scim_source(config: LoadedConfig, job: JobSettings, source: ScimSourceSettings) -> ScimSource:
    """A SCIM source reading through the SCIM client: the runtime wires the two adapters together.

    ``adapters.sources`` may not import ``adapters.scim``; the source takes any reader with
    ``list()`` and ``aclose()``, and this is where the real client is handed to it.
    """
    token = read_secret(config, job, source.token, source.token_file, ("source", "token_file"))
    credentials = client_credentials(config, job, source.auth, "source", source.timeout.total_seconds())
    verify: bool | str = str(config.resolve(source.ca_file)) if source.ca_file else source.verify_tls

    def reader() -> ScimClient:
        return ScimClient(
            source.url,
            token,
            timeout=source.timeout.total_seconds(),
            concurrency=1,  # pages are read one after the other
            verify=verify,
            retries=source.retries,
            user_agent=f"syncer/{__version__} (source)",
            auth=ClientCredentialsAuth(credentials) if credentials else None,
            pagination=source.pagination,
        )

    return ScimSource(reader, url=source.url, page_size=source.page_size, groups=source.groups)


def open_client(
    config: LoadedConfig, job: JobSettings, transport: httpx.AsyncBaseTransport | None = None
) -> ScimClient:
    target = job.target
    verify: bool | str = str(config.resolve(target.ca_file)) if target.ca_file else target.verify_tls
    credentials = client_credentials(config, job, target.auth, "target", target.timeout.total_seconds())
    return ScimClient(
        target.url,
        read_token(config, job),
        timeout=target.timeout.total_seconds(),
        concurrency=target.concurrency,
        verify=verify,
        retries=target.retries,
        rate_limit=target.rate_limit,
        transport=transport,
        auth=ClientCredentialsAuth(credentials) if credentials else None,
        pagination=pagination(target, None),  # until discovery answers (capabilities.for_cycle)
        write_budgets=WriteBudgets(
            write_budget(target, BudgetScope.WRITES, target.write_rate_limit),
            write_budget(target, BudgetScope.USER_WRITES, target.user_write_rate_limit),
        ),
        max_filter_nodes=target.quirks.max_filter_nodes,
    )


def write_budget(target: TargetSettings, scope: BudgetScope, per_second: float | None) -> WriteBudget | None:
    """The client's write budget: the process-wide one of the host when the target's budget is shared.

    A target that keeps its limits per organisation (``shared_rate_budget``: Slack) counts the
    writes of every job and app together, so the jobs of this process writing to that host draw
    on one bucket; any other target gets a bucket per client.
    """
    if per_second is None:
        return None
    if target.quirks.shared_rate_budget:
        return shared_budget(urlsplit(target.url).netloc, scope, per_second)
    return WriteBudget(per_second)


def client_credentials(
    config: LoadedConfig, job: JobSettings, auth: ServiceAuth | None, where: str, timeout: float
) -> ClientCredentials | None:
    """The OAuth 2.0 client credentials of the job's target or SCIM source (``where``), secret read."""
    if auth is None:
        return None
    loc = (where, "auth", "client_secret_file")
    secret = read_secret(config, job, auth.client_secret, auth.client_secret_file, loc)
    if secret is None:  # pragma: no cover - the settings require client_secret or client_secret_file
        raise ValueError(f"{where}.auth has no client secret")
    return ClientCredentials(
        auth.token_url,
        auth.client_id,
        secret,
        scope=auth.scope,
        audience=auth.audience,
        auth_method=auth.client_auth_method,
        verify=str(config.resolve(auth.ca_file)) if auth.ca_file else True,
        timeout=timeout,
    )


def check_job(config: LoadedConfig, job: JobSettings) -> None:
    """Everything ``syncer validate`` can check of one job without touching the source or target."""
    JobContext.build(config, job).open_source()


@dataclass(frozen=True)
class JobContext:
    """One job's compiled parts and factories; built once, shared by every command."""

    config: LoadedConfig
    job: JobSettings
    mapping: CompiledMapping
    scope: JobScope
    state_url: str
    config_fingerprint: str
    mapping_digest: str = ""
    """The mapping file's digest: a mapping edit resends what the target refused (``core.refusals``)."""
    transport: httpx.AsyncBaseTransport | None = None
    """The test seam: an ``httpx.MockTransport`` (a fake target) instead of the network."""

    @classmethod
    def build(cls, config: LoadedConfig, job: JobSettings | str | None) -> JobContext:
        settings = job if isinstance(job, JobSettings) else config.settings.job(job)
        return cls(
            config=config,
            job=settings,
            mapping=compiled_mapping(config, settings),
            scope=compiled_scope(config, settings),
            state_url=state_url(config),
            config_fingerprint=config_fingerprint(config, settings),
            mapping_digest=mapping_digest(config, settings),
        )

    @property
    def name(self) -> str:
        return self.job.name

    def open_source(self) -> Source:
        return open_source(self.config, self.job)

    def open_client(self) -> ScimClient:
        return open_client(self.config, self.job, self.transport)

    def open_store(self) -> StateStore:
        return StateStore(self.state_url)

    def evaluation(self, now: datetime) -> EvaluationContext:
        """What a mapping expression sees: the cycle's clock and the job's ``default_domain``."""
        return EvaluationContext(now=now, default_domain=self.job.default_domain)

    def assigned(self, snapshot: SourceSnapshot) -> AssignedScope:
        return assigned_scope(self.job, self.scope, snapshot)

    def grounds(self, schemas: str) -> Grounds:
        """What a refusal's fingerprint holds besides the object: the mapping and the ``schemas`` digest."""
        return Grounds(mapping=self.mapping_digest, schemas=schemas)

    def inputs(self, source_fingerprint: str, state: JobState) -> PlanInputs:
        return PlanInputs(config=self.config_fingerprint, source=source_fingerprint, state=state.fingerprint)

    def plan_request(
        self,
        *,
        initial: bool,
        intake: Intake,
        state: JobState,
        matches: Mapping[Key, Match],
        inputs: PlanInputs,
        skips: Sequence[Skip],
        protected: frozenset[Key],
        now: datetime,
        aging: bool = True,
    ) -> PlanRequest:
        deprovision = self.job.deprovision
        return PlanRequest(
            job=self.name,
            initial=initial,
            users=intake.users,
            groups=intake.groups,
            state=state,
            matches=matches,
            inputs=inputs,
            skips=tuple(skips),
            protected=protected,
            manage_members=self.mapping.groups.members,
            member_batch_size=self.job.target.member_batch_size,
            group_deletes=deprovision.group_deletes and self.job.provision_groups,
            names=_names(intake.users, state),
            out_of_scope=intake.out_of_scope,
            out_of_scope_policy=deprovision.out_of_scope,
            matching=MappingProxyType(
                {kind: self.mapping.of(kind).matching_names for kind in (ObjectKind.USER, ObjectKind.GROUP)}
            ),
            now=now,
            hard_delete_after=deprovision.hard_delete_after if deprovision.deletes else None,
            aging=aging,  # trustsrc hook: a distrusted clock ages nothing
            delete_deactivates=self.job.target.quirks.delete_deactivates,
        )

    def executor(
        self,
        *,
        run_id: str,
        client: ScimClient,
        store: StateStore,
        state: JobState,
        desired: Mapping[Key, Desired],
        escrowed: frozenset[Key],
        clock: Callable[[], datetime],
        on_progress: Callable[[int, int], None] | None = None,
        stop: Callable[[], str | None] | None = None,
        update_method: str | None = None,
        grounds: Grounds | None = None,
    ) -> Executor:
        interval = self.job.schedule.interval
        return Executor(
            job=self.name,
            run_id=run_id,
            client=client,
            store=store,
            state=state,
            desired=desired,
            mapping=self.mapping,
            concurrency=self.job.target.concurrency,
            clock=clock,
            on_progress=on_progress,
            dialect=self.job.target.dialect,
            escrowed=escrowed,
            escrow_delay=lambda attempts: escrow_delay(attempts, interval),
            grounds=grounds,
            should_stop=stop,
            update_method=update_method or self.job.target.update_method,
            page_size=self.job.matching.page_size,
            listed=must_list(self.mapping, self.job.target.quirks),
            members_in_get=self.job.target.quirks.group_members_in_get,
            filter_attributes=self.job.target.quirks.filter_attributes,
        )


def _names(users: Sequence[Desired], state: JobState) -> dict[str, str]:
    names = {link.source_id: link.display for link in state.of_kind(ObjectKind.USER)}
    names.update({u.source_id: u.display for u in users})
    return names
