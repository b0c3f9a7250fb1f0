"""What ``test-connection`` and ``validate`` say about a job's target (``--online``) and its source."""

from __future__ import annotations

from collections.abc import Sequence

from syncer.cli.app import err, fail, out
from syncer.core.display import redact_url
from syncer.core.sourcenames import Severity
from syncer.errors import (
    NotFoundError,
    PermanentTargetError,
    SourceError,
    TokenRefused,
    TransientTargetError,
    UnauthorizedError,
)
from syncer.runtime import namecheck
from syncer.runtime.configfile import LoadedConfig
from syncer.runtime.connection import TargetReport, test_connection
from syncer.runtime.jobcontext import JobContext
from syncer.runtime.targetcheck import Check, Finding, describe
from syncer.settings import JobSettings, TargetSettings


def check_target(
    config: LoadedConfig, job: JobSettings, *, save: bool = True, show: bool = True
) -> TargetReport:
    """Test the connection, print the capabilities and every finding; exit 1 on a typed failure.

    ``save``: the capabilities replace the state's cached ones (``test-connection``; ``validate``
    writes nothing).
    """
    target = redact_url(job.target.url, keep_path=True)
    try:
        report = test_connection(config, job, save=save)
    except TokenRefused as exc:
        fail(str(exc))
    except UnauthorizedError as exc:
        fail(f"the target refused the credentials ({exc.status}): check the token. {exc}")
    except NotFoundError as exc:
        fail(f"404 from {target}: the URL is not a SCIM endpoint (check the base URL). {exc}")
    except TransientTargetError as exc:
        if exc.answered:  # a 5xx or 429 is an answer: the server is up and failed the request
            fail(f"{target} answered {exc.status}: the server is reachable but failed the request. {exc}")
        fail(f"cannot reach {target}: {exc}")
    except PermanentTargetError as exc:
        fail(f"test connection failed: {exc}")
    if not show:  # --format json: the caller prints the report as one document
        return report
    out.print(f"Test connection to {target} succeeded.", markup=False)
    out.print(f"  auth: {report.auth}", markup=False)
    for line in profile_lines(job.target):
        out.print(f"  {line}", markup=False)
    out.print(f"Target capabilities (job {job.name}):", markup=False)
    for line in describe(report.capabilities):
        out.print(f"  {line}", markup=False)
    for finding in report.findings:
        err.print(str(finding), markup=False)
    return report


def profile_lines(target: TargetSettings) -> list[str]:
    """The job's target profile and what syncer does for each of its documented quirks."""
    quirks = target.quirks
    lines = [f"profile: {quirks.profile.value} ({quirks.title})"]
    lines += [f"  {q.behaviour}: {q.handling}" for q in quirks.quirks]
    return lines


def refuse_on(errors: Sequence[Finding]) -> None:
    """Exit 1 when the mapping uses what the target lacks: better now than as failed writes."""
    if not errors:
        return
    said = []
    extensions = sum(1 for e in errors if e.check is Check.EXTENSION_NOT_OFFERED)
    if extensions:
        said.append(f"{extensions} mapped attribute(s) in a schema extension the target does not offer")
    unknown = len(errors) - extensions
    if unknown:
        said.append(f"{unknown} mapped attribute(s) the target's schema does not have")
    fail("; ".join(said) + "; see above")


def check_source_names(config: LoadedConfig, job: JobSettings) -> int:
    """Read the job's source and print every mapped or scoping name it lacks; return the errors.

    A source that cannot be read is a warning, not a failure: ``validate`` checks what it can,
    and the cycle checks the names again on every read.
    """
    context = JobContext.build(config, job)
    try:
        snapshot = context.open_source().read()
    except SourceError as exc:
        err.print(
            f"warning: job {job.name}: the source could not be read, so its attribute names were not "
            f"checked (--no-source to skip): {exc}",
            markup=False,
        )
        return 0
    found = namecheck.findings(context, snapshot)
    for finding in found:
        err.print(f"{finding.severity.value}: {finding}", markup=False)
    return sum(1 for finding in found if finding.severity is Severity.ERROR)


def refuse_names(errors: int) -> None:
    """Exit 1 when a mapped or scoping name is not in the source: the cycle would refuse it too."""
    if errors:
        fail(f"{errors} source attribute name(s) not in the source; see above (each cycle would stop)")


def connection_document(job: JobSettings, report: TargetReport) -> dict[str, object]:
    """``test-connection --format json``: the same facts as the text, the URL without credentials."""
    return {
        "job": job.name,
        "target": redact_url(job.target.url, keep_path=True),
        "ok": not report.errors,
        "auth": report.auth,
        "profile": job.target.profile.value,
        "capabilities": list(describe(report.capabilities)),
        "findings": [
            {"severity": f.severity.value, "where": f.where, "message": f.message} for f in report.findings
        ],
    }
