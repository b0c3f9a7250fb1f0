"""One exception tree for syncer.

Every error a user can see is a ``SyncerError``; third-party errors are translated at the
boundary (``raise Ours(...) from exc``) so callers never catch httpx or SQLAlchemy types::

    SyncerError
    ├── ConfigError                 config or mapping invalid: refuses to start (cites file:line)
    │   ├── UnknownJob              --job names no job of the config (also a KeyError, as it was)
    │   ├── MappingError            one attribute mapping refused: FILE:LINE users.title: message
    │   ├── ExpressionError         a mapping expression that does not parse or type-check (column)
    │   ├── ScimPathError           a target path that is not a SCIM attribute path (column)
    │   └── SourceNamesError        mapped or scoping names the source does not have (file:line each)
    ├── SourceError                 the source could not be read as a whole: never "everyone left"
    ├── StateError                  the state store failed
    │   ├── LeaseHeld               another process runs the job (holds its lease)
    │   └── LeaseLost               this worker's lease was taken over: stop before writing
    ├── PlanRefused                 a saved plan no longer matches config, source, state or target
    └── TargetError                 the SCIM target answered with an error, or not at all
        ├── TransientTargetError    timeouts, resets, 5xx, 429: retried (carries retry_after)
        │   └── TargetUnreachable   a run of requests without any answer: the cycle stops at once
        ├── ConflictError           409: the object exists; match and link instead of failing
        ├── NotFoundError           404 on an id: the object is gone on the target
        ├── UnauthorizedError       401/403: credentials; quarantines the job
        │   └── TokenRefused        the OAuth token endpoint refused the client (invalid_client, ...)
        ├── MalformedResponseError  2xx that is not the SCIM JSON we asked for
        └── PermanentTargetError    every other 4xx: not retried this cycle
            └── TlsError            the certificate did not verify: quarantines the job
"""

from __future__ import annotations


class SyncerError(Exception):
    """Base of every error syncer raises on purpose."""


class ConfigError(SyncerError):
    """The config or a mapping file is invalid; syncer refuses to start.

    ``location`` is ``file:line`` (or just the file) so the message points at the fix.
    """

    def __init__(self, message: str, location: str | None = None) -> None:
        self.message = message
        self.location = location
        super().__init__(f"{location}: {message}" if location else message)


class UnknownJob(ConfigError, KeyError):
    """The config holds no job by that name, or several jobs and none was chosen.

    Also a ``KeyError``, which the job lookup raised before it had a type of its own, so callers
    that catch ``KeyError`` keep working.
    """

    def __str__(self) -> str:
        # KeyError's own __str__ would quote the message like a dict key
        return self.message


class MappingError(ConfigError):
    """One attribute mapping (or one section) of a mapping file is refused.

    Printed as ``FILE:LINE users.title: EXPR — message at column N``: the attribute follows the
    line directly, so the message reads like the YAML it points at. ``attribute`` is the section
    and target (``users.title``), or just the section for a problem with the whole section.
    """

    def __init__(self, attribute: str, message: str, location: str | None = None) -> None:
        self.attribute = attribute
        super().__init__(f"{attribute}: {message}", location)

    def __str__(self) -> str:
        return f"{self.location} {self.message}" if self.location else self.message


class ExpressionError(ConfigError):
    """An expression that cannot be parsed or checked; ``column`` is 1-based within the expression."""

    def __init__(self, message: str, column: int | None = None, expression: str | None = None) -> None:
        self.column = column
        self.expression = expression
        text = f"{message} at column {column}" if column is not None else message
        super().__init__(text)


class ScimPathError(ConfigError):
    """A target path that is not a valid SCIM attribute path; ``column`` is 1-based."""

    def __init__(self, message: str, column: int | None = None, path: str | None = None) -> None:
        self.column = column
        self.path = path
        text = f"{message} at column {column}" if column is not None else message
        super().__init__(text)


class SourceNamesError(ConfigError):
    """The mapping or its scoping reads source attribute names the source does not have.

    Found against the source itself (its header, schema or records), so at the start of a cycle
    or by ``syncer validate``; the message lists every name with its ``file:line``.
    """


class SourceError(SyncerError):
    """The source directory could not be read as a whole.

    Raised instead of returning a partial or empty directory, which would look like leavers.
    """


class StateError(SyncerError):
    """The state store could not be read or written."""


class PlanRefused(SyncerError):
    """A saved plan is stale: what it was computed from has moved since."""


class TargetError(SyncerError):
    """The SCIM target failed a request.

    Carries the SCIM error's ``status``, ``scim_type`` and ``detail`` (RFC 7644 §3.12) so the
    provisioning log can show what the target said, never the request's credentials.
    """

    code = "TargetError"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        scim_type: str | None = None,
        detail: str | None = None,
        scim_error: bool = False,
    ) -> None:
        self.status = status
        self.scim_type = scim_type
        self.detail = detail
        self.scim_error = scim_error
        """The body was a SCIM error (RFC 7644 §3.12) for this status, not a proxy's page."""
        super().__init__(message)

    @property
    def answered(self) -> bool:
        """The target (or something in front of it) sent an HTTP answer at all."""
        return self.status is not None


class TransientTargetError(TargetError):
    """Worth retrying: timeouts, dropped connections, 5xx and 429 (``retry_after`` in seconds).

    ``maybe_processed`` is true when the target may have acted on the request before failing (a
    read timeout, a dropped response, a 500/502/504): a create must then be looked up, not
    blindly sent again, or it could exist twice.
    """

    code = "Transient"

    def __init__(
        self, message: str, *, retry_after: float | None = None, maybe_processed: bool = False, **kw: object
    ) -> None:
        self.retry_after = retry_after
        self.maybe_processed = maybe_processed
        super().__init__(message, **kw)  # type: ignore[arg-type]


class TargetUnreachable(TransientTargetError):
    """Requests in a row got no answer at all (refused, reset, timed out, TLS): the target is down.

    Raised by the executor after the requests in flight have landed, so a dead target costs one
    message and a handful of requests, not one retry and one escrow entry per object.
    """

    code = "TargetUnreachable"


class ConflictError(TargetError):
    """409: the object already exists on the target."""

    code = "Conflict"


class NotFoundError(TargetError):
    """404 on a resource id: the target object is gone."""

    code = "NotFound"


class UnauthorizedError(TargetError):
    """401/403: the token is wrong, expired or lacks permission."""

    code = "Unauthorized"


class TokenRefused(UnauthorizedError):
    """The OAuth 2.0 token endpoint refused the client credentials: no token, so no request was sent.

    An :class:`UnauthorizedError`, so it stops the cycle and counts towards quarantine as a 401
    does; its message names the token endpoint and the ``client_id``, never the secret.
    """

    code = "TokenRefused"


class MalformedResponseError(TargetError):
    """A response that is not the SCIM JSON the request asked for (an HTML error page, say)."""

    code = "MalformedResponse"


class PermanentTargetError(TargetError):
    """Any other 4xx: retrying in this cycle would not help."""

    code = "Permanent"


class FilterNotSent(PermanentTargetError):
    """A filter the target's profile says it refuses (more nodes than it takes): never sent."""

    code = "FilterTooLarge"


class TlsError(PermanentTargetError):
    """The target's certificate did not verify: an endpoint error that quarantines the job."""

    code = "TlsError"


class LeaseHeld(StateError):
    """Another process runs the job (holds its lease): this command refuses, or waited in vain."""


class LeaseLost(StateError):
    """This worker's lease was taken by another process: it stops before its next write."""
