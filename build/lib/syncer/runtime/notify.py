"""Tell a person when a job needs them: entering quarantine, a changed reason, failed objects.

A webhook (JSON POST), an e-mail over SMTP, or a command (the event as JSON on its standard
input). A notification that fails is logged and never fails the cycle: the state already holds
the truth, the message is a courtesy.
"""

from __future__ import annotations

import json
import smtplib
import subprocess
from datetime import datetime
from email.message import EmailMessage
from typing import Any

import httpx
import structlog

from syncer.core.display import redact_url, redact_urls
from syncer.core.policy import JobHealth
from syncer.settings import NotifySettings

log = structlog.get_logger("syncer.notify")


def notification_events(
    job: str, before: JobHealth, after: JobHealth, failures: int, at: datetime
) -> list[dict[str, Any]]:
    """What to announce after a cycle: at most one quarantine event and one failures event."""
    events: list[dict[str, Any]] = []
    was, now = before.quarantine, after.quarantine
    if now is not None and (was is None or was.reason != now.reason):
        events.append(
            {
                "event": "quarantine" if was is None else "quarantine_reason_changed",
                "job": job,
                "reason": now.reason,
                "previous_reason": was.reason if was else None,
                "detail": now.detail,
                "since": now.since.isoformat(),
                "at": at.isoformat(),
            }
        )
    if after.disabled_reason and not before.disabled_reason:
        events.append(
            {"event": "disabled", "job": job, "reason": after.disabled_reason, "at": at.isoformat()}
        )
    if failures:
        events.append({"event": "failures", "job": job, "failures": failures, "at": at.isoformat()})
    return events


def _subject(event: dict[str, Any]) -> str:
    kind = event["event"]
    if kind == "failures":
        return f"syncer: job {event['job']}: {event['failures']} object(s) failed"
    return f"syncer: job {event['job']}: {kind.replace('_', ' ')}: {event.get('reason')}"


def send_notification(settings: NotifySettings, event: dict[str, Any]) -> None:
    """Send one event everywhere configured; never raises."""
    wanted = "failures" if event["event"] == "failures" else "quarantine"
    if wanted not in settings.events:
        return
    if settings.webhook is not None:
        try:
            response = httpx.post(
                settings.webhook.url,
                json=event,
                headers=settings.webhook.headers,
                timeout=settings.webhook.timeout.total_seconds(),
            )
            response.raise_for_status()
        except (httpx.HTTPError, httpx.InvalidURL) as exc:  # InvalidURL is no HTTPError
            log.error(
                "notification_failed",
                channel="webhook",
                notification=event["event"],
                url=redact_url(settings.webhook.url),  # its path or query is often the secret
                error=redact_urls(str(exc)),
            )
    if settings.email is not None:
        mail = settings.email
        message = EmailMessage()
        message["Subject"] = _subject(event)
        message["From"] = mail.sender
        message["To"] = ", ".join(mail.to)
        message.set_content(json.dumps(event, indent=2))
        try:
            with smtplib.SMTP(mail.smtp_host, mail.smtp_port, timeout=mail.timeout.total_seconds()) as smtp:
                if mail.starttls:
                    smtp.starttls()
                if mail.username and mail.password:
                    smtp.login(mail.username, mail.password.get_secret_value())
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            log.error("notification_failed", channel="email", notification=event["event"], error=str(exc))
    if settings.command:
        try:
            subprocess.run(
                settings.command,
                input=json.dumps(event),
                text=True,
                timeout=30,
                check=True,
                capture_output=True,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            log.error(
                "notification_failed",
                channel="command",
                notification=event["event"],
                error=_command_error(exc),
            )


def _command_error(exc: OSError | subprocess.SubprocessError) -> str:
    """What went wrong, without the command's arguments: they may carry a token."""
    if isinstance(exc, subprocess.CalledProcessError):
        return f"the command exited with status {exc.returncode}"
    if isinstance(exc, subprocess.TimeoutExpired):
        return f"the command ran longer than {exc.timeout:g}s"
    if isinstance(exc, OSError):
        return f"cannot run the command: {exc.strerror or type(exc).__name__}"
    return type(exc).__name__
