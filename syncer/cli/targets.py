"""What ``test-connection`` and ``validate --online`` say about a job's target."""

from __future__ import annotations

from collections.abc import Sequence

from syncer.cli.app import err, fail, out
from syncer.core.display import redact_url
from syncer.errors import (
    NotFoundError,
    PermanentTargetError,
    TokenRefused,
    TransientTargetError,
    UnauthorizedError,
)
from syncer.runtime.configfile import LoadedConfig
from syncer.runtime.connection import TargetReport, test_connection
from syncer.runtime.targetcheck import Finding, describe
from syncer.settings import JobSettings


def check_target(config: LoadedConfig, job: JobSettings) -> TargetReport:
    """Test the connection, print the capabilities and every finding; exit 1 on a typed failure."""
    target = redact_url(job.target.url, keep_path=True)
    try:
        report = test_connection(config, job)
    except TokenRefused as exc:
        fail(str(exc))
    except UnauthorizedError as exc:
        fail(f"the target refused the credentials ({exc.status}): check the token. {exc}")
    except NotFoundError as exc:
        fail(f"404 from {target}: the URL is not a SCIM endpoint (check the base URL). {exc}")
    except TransientTargetError as exc:
        fail(f"cannot reach {target}: {exc}")
    except PermanentTargetError as exc:
        fail(f"test connection failed: {exc}")
    out.print(f"Test connection to {target} succeeded.", markup=False)
    out.print(f"  auth: {report.auth}", markup=False)
    out.print(f"Target capabilities (job {job.name}):", markup=False)
    for line in describe(report.capabilities):
        out.print(f"  {line}", markup=False)
    for finding in report.findings:
        err.print(str(finding), markup=False)
    return report


def refuse_on(errors: Sequence[Finding]) -> None:
    """Exit 1 when the mapping uses what the target lacks: better now than as failed writes."""
    if errors:
        count = len(errors)
        fail(f"{count} mapped attribute(s) in a schema extension the target does not offer; see above")
