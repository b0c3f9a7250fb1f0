"""Notifications: which events a cycle raises, and their delivery to a real webhook, SMTP server and command.

The webhook receiver (``http.server``) and the SMTP sink (``socketserver``, speaking just enough
SMTP: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) run on 127.0.0.1 in threads of this process.
"""

from __future__ import annotations

import email
import json
import socket
import socketserver
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from structlog.testing import capture_logs

from syncer.core.policy import (
    ESCROW_TOTAL,
    QUARANTINE_EXCEPTION,
    TOO_MANY_DELETES,
    JobHealth,
    Quarantine,
)
from syncer.runtime.notify import notification_events, send_notification
from syncer.settings import NotifySettings
from tests.support.serving import serving

T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=6)
HEALTHY = JobHealth()
FATAL = JobHealth(quarantine=Quarantine(QUARANTINE_EXCEPTION, T0, "401 Unauthorized", attempts=0))


# --- a webhook receiver --------------------------------------------------------------------------------


@dataclass
class Receiver:
    """What the webhook receiver got: one (path, headers, JSON body) per POST."""

    url: str
    status: int = 204
    posts: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    box: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            rec = box["r"]
            rec.posts.append((self.path, dict(self.headers.items()), json.loads(body)))
            self.send_response(rec.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    with serving(ThreadingHTTPServer(("127.0.0.1", 0), Handler), "webhook-receiver") as server:
        box["r"] = Receiver(url=f"http://127.0.0.1:{server.server_port}/hooks/syncer")
        yield box["r"]


# --- an SMTP sink --------------------------------------------------------------------------------------


@dataclass
class Mailbox:
    """What the SMTP sink accepted: (MAIL FROM, RCPT TOs, parsed message) per DATA."""

    port: int
    reject_rcpt: bool = False
    messages: list[tuple[str, list[str], Message]] = field(default_factory=list)


class _SmtpHandler(socketserver.StreamRequestHandler):
    server: _SmtpServer

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        box = self.server.mailbox
        sender, rcpts = "", []
        self.reply("220 sink.test ESMTP ready")
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = line[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 sink.test")
            elif verb == "MAIL":
                sender, rcpts = line.split(":", 1)[1].strip().strip("<>"), []
                self.reply("250 OK")
            elif verb == "RCPT":
                if box.reject_rcpt:
                    self.reply("550 no such user here")
                else:
                    rcpts.append(line.split(":", 1)[1].strip().strip("<>"))
                    self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                data = bytearray()
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                box.messages.append((sender, rcpts, email.message_from_bytes(bytes(data))))
                self.reply("250 OK queued")
            elif verb in ("RSET", "NOOP"):
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 command not implemented")


class _SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    mailbox: Mailbox


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    server = _SmtpServer(("127.0.0.1", 0), _SmtpHandler)
    server.mailbox = Mailbox(port=server.server_address[1])
    with serving(server, "smtp-sink"):
        yield server.mailbox


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def settings(**values: Any) -> NotifySettings:
    return NotifySettings.model_validate(values)


def email_settings(port: int, **extra: Any) -> dict[str, Any]:
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "from": "syncer@contoso.test",
        "to": ["ops@contoso.test"],
    }


def command_writing_to(path: Path) -> list[str]:
    """A command that writes its standard input to ``path``."""
    code = "import sys, pathlib; pathlib.Path(sys.argv[1]).write_text(sys.stdin.read())"
    return [sys.executable, "-c", code, str(path)]


QUARANTINE_EVENT = {
    "event": "quarantine",
    "job": "hr",
    "reason": QUARANTINE_EXCEPTION,
    "previous_reason": None,
    "detail": "401 Unauthorized",
    "since": T0.isoformat(),
    "at": T0.isoformat(),
}
FAILURES_EVENT = {"event": "failures", "job": "hr", "failures": 3, "at": T0.isoformat()}


# --- notification_events -------------------------------------------------------------------------------


def test_event_on_entering_quarantine() -> None:
    """Entering quarantine raises one quarantine event with the reason, detail and since."""
    assert notification_events("hr", HEALTHY, FATAL, 0, T0) == [QUARANTINE_EVENT]


def test_event_on_changed_reason() -> None:
    """A quarantined job whose reason changes raises quarantine_reason_changed naming both reasons."""
    after = JobHealth(quarantine=Quarantine(ESCROW_TOTAL, T0, "41000 objects failed", attempts=1))
    assert notification_events("hr", FATAL, after, 41000, T1) == [
        {
            "event": "quarantine_reason_changed",
            "job": "hr",
            "reason": ESCROW_TOTAL,
            "previous_reason": QUARANTINE_EXCEPTION,
            "detail": "41000 objects failed",
            "since": T0.isoformat(),
            "at": T1.isoformat(),
        },
        {"event": "failures", "job": "hr", "failures": 41000, "at": T1.isoformat()},
    ]


def test_no_event_when_quarantine_continues_for_the_same_reason() -> None:
    """Staying quarantined for the same reason is not news."""
    after = JobHealth(quarantine=Quarantine(QUARANTINE_EXCEPTION, T0, "403 Forbidden", attempts=1))
    assert notification_events("hr", FATAL, after, 0, T1) == []


def test_no_event_when_lifted() -> None:
    """A clean cycle lifting quarantine raises nothing, and a healthy clean cycle neither."""
    assert notification_events("hr", FATAL, HEALTHY, 0, T1) == []
    assert notification_events("hr", HEALTHY, HEALTHY, 0, T1) == []


def test_failures_event() -> None:
    """A healthy cycle with failed objects raises one failures event with the count."""
    assert notification_events("hr", HEALTHY, HEALTHY, 3, T0) == [FAILURES_EVENT]


def test_disabled_event() -> None:
    """Being disabled raises a disabled event once, not again while it stays disabled."""
    before = JobHealth(quarantine=Quarantine(QUARANTINE_EXCEPTION, T0, "401", attempts=20))
    after = JobHealth(
        quarantine=Quarantine(QUARANTINE_EXCEPTION, T0, "401", attempts=21), disabled_reason="gone"
    )
    at = T0 + timedelta(days=28)
    assert notification_events("hr", before, after, 0, at) == [
        {"event": "disabled", "job": "hr", "reason": "gone", "at": at.isoformat()}
    ]
    assert notification_events("hr", after, after, 0, at) == []


def test_too_many_deletes_event() -> None:
    """Held deletions quarantine with TooManyDeletes and say so."""
    after = JobHealth(quarantine=Quarantine(TOO_MANY_DELETES, T0, "held"))
    [event] = notification_events("hr", HEALTHY, after, 0, T0)
    assert (event["event"], event["reason"], event["detail"]) == ("quarantine", TOO_MANY_DELETES, "held")


# --- delivery ------------------------------------------------------------------------------------------


def test_webhook_delivers_json(receiver: Receiver) -> None:
    """The webhook gets the event as a JSON POST with the configured headers."""
    config = settings(webhook={"url": receiver.url, "headers": {"X-Api-Key": "k1"}})
    send_notification(config, QUARANTINE_EVENT)
    [(path, headers, body)] = receiver.posts
    assert path == "/hooks/syncer"
    assert headers["X-Api-Key"] == "k1"
    assert headers["Content-Type"] == "application/json"
    assert body == QUARANTINE_EVENT


def test_email_delivers(mailbox: Mailbox) -> None:
    """The e-mail goes from ``from`` to every ``to`` with a subject naming the event and the event as JSON."""
    config = settings(email={**email_settings(mailbox.port), "to": ["ops@contoso.test", "it@contoso.test"]})
    send_notification(config, QUARANTINE_EVENT)
    [(sender, rcpts, message)] = mailbox.messages
    assert sender == "syncer@contoso.test"
    assert rcpts == ["ops@contoso.test", "it@contoso.test"]
    assert message["Subject"] == "syncer: job hr: quarantine: EncounteredQuarantineException"
    assert message["From"] == "syncer@contoso.test"
    assert message["To"] == "ops@contoso.test, it@contoso.test"
    assert json.loads(message.get_payload()) == QUARANTINE_EVENT


def test_email_failures_subject(mailbox: Mailbox) -> None:
    """A failures e-mail's subject gives the count."""
    send_notification(settings(email=email_settings(mailbox.port)), FAILURES_EVENT)
    [(_, _, message)] = mailbox.messages
    assert message["Subject"] == "syncer: job hr: 3 object(s) failed"


def test_command_gets_the_event_on_stdin(tmp_path: Path) -> None:
    """The command runs with the event as JSON on its standard input."""
    out = tmp_path / "event.json"
    send_notification(settings(command=command_writing_to(out)), QUARANTINE_EVENT)
    assert json.loads(out.read_text()) == QUARANTINE_EVENT


def test_every_channel_at_once(receiver: Receiver, mailbox: Mailbox, tmp_path: Path) -> None:
    """One event configured three ways reaches all three."""
    out = tmp_path / "event.json"
    config = settings(
        webhook={"url": receiver.url}, email=email_settings(mailbox.port), command=command_writing_to(out)
    )
    send_notification(config, FAILURES_EVENT)
    assert [body for _, _, body in receiver.posts] == [FAILURES_EVENT]
    assert len(mailbox.messages) == 1
    assert json.loads(out.read_text()) == FAILURES_EVENT


@pytest.mark.parametrize(
    ("events", "event", "sent"),
    [
        (["quarantine"], QUARANTINE_EVENT, True),
        (["quarantine"], FAILURES_EVENT, False),
        (["failures"], QUARANTINE_EVENT, False),
        (["failures"], FAILURES_EVENT, True),
        (["quarantine"], {"event": "disabled", "job": "hr", "reason": "x", "at": "t"}, True),
        (["quarantine"], {**QUARANTINE_EVENT, "event": "quarantine_reason_changed"}, True),
        ([], QUARANTINE_EVENT, False),
    ],
)
def test_on_selects_events(
    receiver: Receiver, mailbox: Mailbox, tmp_path: Path, events: list[str], event: dict[str, Any], sent: bool
) -> None:
    """``events`` picks the events sent on every channel; quarantine covers changed reasons and disabling."""
    out = tmp_path / "event.json"
    config = settings(
        events=events,
        webhook={"url": receiver.url},
        email=email_settings(mailbox.port),
        command=command_writing_to(out),
    )
    send_notification(config, event)
    assert len(receiver.posts) == len(mailbox.messages) == int(sent)
    assert out.exists() is sent


def test_default_on_is_every_event() -> None:
    """Without ``events`` both quarantine and failures events are sent."""
    assert settings().events == ["quarantine", "failures"]


# --- failures are logged, never raised -----------------------------------------------------------------


def failures_logged(config: NotifySettings, event: dict[str, Any] = QUARANTINE_EVENT) -> list[dict[str, Any]]:
    with capture_logs() as logs:
        send_notification(config, event)  # must not raise
    return [e for e in logs if e["event"] == "notification_failed"]


def test_webhook_connection_refused_is_logged() -> None:
    """A webhook nobody listens on is logged as a failed notification."""
    [entry] = failures_logged(settings(webhook={"url": f"http://127.0.0.1:{free_port()}/hook"}))
    assert (entry["channel"], entry["notification"], entry["log_level"]) == ("webhook", "quarantine", "error")
    assert entry["error"]


def test_webhook_error_status_is_logged(receiver: Receiver) -> None:
    """A webhook answering 500 is a failed notification, logged with the status."""
    receiver.status = 500
    [entry] = failures_logged(settings(webhook={"url": receiver.url}))
    assert entry["channel"] == "webhook"
    assert "500" in entry["error"]
    assert len(receiver.posts) == 1


def test_webhook_bad_url_is_logged() -> None:
    """A webhook URL that cannot even be parsed is logged, not raised into the cycle."""
    [entry] = failures_logged(settings(webhook={"url": "http://127.0.0.1:port/hook"}))
    assert entry["channel"] == "webhook"


@pytest.mark.parametrize("url", ["http://[::1/hook", "not a url", "ftp://hooks.example/x"])
def test_webhook_url_that_is_no_http_url_is_refused_at_load(url: str) -> None:
    """What cannot be an http(s) URL is refused when the config loads, not first found failing."""
    with pytest.raises(ValidationError):
        settings(webhook={"url": url})


def test_smtp_connection_refused_is_logged() -> None:
    """An SMTP server nobody runs is logged as a failed e-mail notification."""
    [entry] = failures_logged(settings(email=email_settings(free_port())))
    assert (entry["channel"], entry["notification"]) == ("email", "quarantine")


def test_smtp_refusing_the_recipient_is_logged(mailbox: Mailbox) -> None:
    """An SMTP server refusing every recipient is logged and nothing is delivered."""
    mailbox.reject_rcpt = True
    [entry] = failures_logged(settings(email=email_settings(mailbox.port)))
    assert entry["channel"] == "email"
    assert "550" in entry["error"]
    assert mailbox.messages == []


def test_command_exiting_non_zero_is_logged() -> None:
    """A command that exits 3 is logged as a failed notification."""
    [entry] = failures_logged(settings(command=[sys.executable, "-c", "import sys; sys.exit(3)"]))
    assert entry["channel"] == "command"
    assert "3" in entry["error"]


def test_missing_command_is_logged(tmp_path: Path) -> None:
    """A command that does not exist is logged as a failed notification."""
    [entry] = failures_logged(settings(command=[str(tmp_path / "no-such-notifier")]))
    assert entry["channel"] == "command"


def test_one_failing_channel_does_not_stop_the_others(mailbox: Mailbox, tmp_path: Path) -> None:
    """With the webhook down, the e-mail and the command still go out."""
    out = tmp_path / "event.json"
    config = settings(
        webhook={"url": f"http://127.0.0.1:{free_port()}/hook"},
        email=email_settings(mailbox.port),
        command=command_writing_to(out),
    )
    [entry] = failures_logged(config)
    assert entry["channel"] == "webhook"
    assert len(mailbox.messages) == 1
    assert json.loads(out.read_text()) == QUARANTINE_EVENT


def test_a_failing_webhook_logs_its_url_without_the_secret(receiver: Receiver) -> None:
    """The secret in a webhook's path or query (Slack, Teams) never reaches the log."""
    receiver.status = 500
    secret_url = receiver.url.rstrip("/") + "/services/T0/B0/HOOKSECRET?sig=SIGSECRET"
    [entry] = failures_logged(settings(webhook={"url": secret_url}))
    text = json.dumps(entry)
    assert "HOOKSECRET" not in text and "SIGSECRET" not in text
    assert "500" in entry["error"] and entry["url"].endswith("/…")


def test_an_unreachable_webhook_logs_no_secret() -> None:
    secret_url = f"http://user:PWSECRET@127.0.0.1:{free_port()}/hook/HOOKSECRET"
    [entry] = failures_logged(settings(webhook={"url": secret_url}))
    text = json.dumps(entry)
    assert "HOOKSECRET" not in text and "PWSECRET" not in text and entry["error"]


def test_a_failing_command_logs_no_argument() -> None:
    """A command's arguments may carry a token (``curl -H 'Authorization: ...'``): not logged."""
    command = [sys.executable, "-c", "import sys; sys.exit(3)", "Authorization: Bearer ARGSECRET"]
    [entry] = failures_logged(settings(command=command))
    assert "ARGSECRET" not in json.dumps(entry) and "3" in entry["error"]
