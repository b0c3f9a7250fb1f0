"""A real OpenLDAP ``slapd`` on 127.0.0.1 for the tests, from Debian's package (2.5).

It writes a ``slapd.conf`` into a temp dir (``back_mdb``, the ``memberof``, ``ppolicy`` and
``refint`` overlays loaded from the package's module path: refint rewrites member DNs on renames,
as production directories do), starts slapd on a free port with
``-h ldap://127.0.0.1:PORT/`` and stops it by the PID in its pidfile. ``reset()`` empties the
directory below the suffix and loads an LDIF through ``ldapadd``, so overlays see every entry.

``make test`` installs ``slapd`` and ``ldap-utils`` when they are missing.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from tests.support.canary_secrets import LDAP_PASSWORD

SUFFIX = "dc=example,dc=org"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PW = LDAP_PASSWORD  # a canary: the e2e session fails if any output holds it


def _binary(name: str) -> str:
    found = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK)), None
    )
    if found is None:
        raise RuntimeError(
            f"{name} not found: install Debian's slapd and ldap-utils (make test does it when run as root)"
        )
    return found


def _module_dir() -> str:
    for pattern in (
        "/usr/lib/ldap/back_mdb.so",
        "/usr/lib/*/ldap/back_mdb.so",
        "/usr/lib*/openldap/back_mdb.so",
    ):
        hits = glob.glob(pattern)
        if hits:
            return str(Path(hits[0]).parent)
    listing = subprocess.run(["dpkg", "-L", "slapd"], capture_output=True, text=True, check=False).stdout
    for line in listing.splitlines():
        if line.endswith("/back_mdb.so"):
            return str(Path(line).parent)
    raise RuntimeError("slapd's back_mdb.so module was not found")


def _schema_dir() -> str:
    for candidate in ("/etc/ldap/schema", "/etc/openldap/schema"):
        if Path(candidate, "core.schema").exists():
            return candidate
    raise RuntimeError("OpenLDAP's schema folder (core.schema) was not found")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Slapd:
    """One slapd process with its own config and database in a temp dir."""

    def __init__(self, overlays: tuple[str, ...] = ("memberof", "ppolicy", "refint")) -> None:
        """``overlays=()`` is a stock Debian slapd: core, cosine, inetorgperson and nis, nothing else."""
        self.dir = Path(tempfile.mkdtemp(prefix="syncer-slapd-"))
        self.port = free_port()
        self.slapd = _binary("slapd")
        self.ldapadd_bin = _binary("ldapadd")
        self.ldapmodify_bin = _binary("ldapmodify")
        self.ldapdelete_bin = _binary("ldapdelete")
        self.ldapsearch_bin = _binary("ldapsearch")
        self.tls_port = free_port()
        self._stopping: int | None = None
        (self.dir / "db").mkdir()
        self.ca_file = self._certificates()
        self.password_file = self.dir / "rootpw"
        self.password_file.write_text(ROOT_PW)  # ldap-utils' -y reads it verbatim (no newline)
        schema = _schema_dir()
        includes = "".join(
            f"include {schema}/{name}.schema\n" for name in ("core", "cosine", "inetorgperson", "nis")
        )
        loads = "".join(f"moduleload {name}\n" for name in overlays)
        stacked = "".join(f"overlay {name}\n" for name in overlays)
        if "refint" in overlays:
            stacked += "refint_attributes member uniqueMember manager\n"
        (self.dir / "slapd.conf").write_text(
            f"""{includes}TLSCACertificateFile {self.ca_file}
TLSCertificateFile {self.dir}/server.pem
TLSCertificateKeyFile {self.dir}/server.key
modulepath {_module_dir()}
moduleload back_mdb
{loads}pidfile {self.dir}/slapd.pid
argsfile {self.dir}/slapd.args
sizelimit unlimited
database mdb
maxsize 268435456
dbnosync
suffix "{SUFFIX}"
rootdn "{ROOT_DN}"
rootpw {ROOT_PW}
directory {self.dir}/db
index objectClass eq
index entryUUID eq
index uid,cn,mail eq
# anonymous clients get at most 15 entries per search, paged or not: a real partial read to test
limits anonymous size.soft=15 size.hard=15 size.prtotal=15
{stacked}"""
        )

    def _certificates(self) -> Path:
        """A throwaway CA and a server certificate for 127.0.0.1 and localhost (EC keys: fast)."""
        d = self.dir
        key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        for args in (
            [
                "req",
                "-x509",
                *key,
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=syncer test CA",
            ],
            ["req", *key, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"],
            [
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.pem",
                "-days",
                "2",
                "-extfile",
                "san.ext",
            ],
        ):
            subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)
        return d / "ca.pem"

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://127.0.0.1:{self.tls_port}"

    @property
    def pidfile(self) -> Path:
        return self.dir / "slapd.pid"

    def start(self) -> None:
        subprocess.run(
            [
                self.slapd,
                "-f",
                str(self.dir / "slapd.conf"),
                "-h",
                f"ldap://127.0.0.1:{self.port}/ ldaps://127.0.0.1:{self.tls_port}/",
            ],
            check=True,
            capture_output=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.pidfile.exists() and self._accepts():
                return
            time.sleep(0.02)
        raise RuntimeError(f"slapd did not start on port {self.port}")

    def _accepts(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    @property
    def running(self) -> bool:
        if self._stopping is not None:
            self.stop()  # terminated from a relay: wait for it to be gone before anyone restarts it
        return self.pidfile.exists() and self._accepts()

    def terminate(self) -> int | None:
        """SIGTERM the PID in the pidfile without waiting (safe to call from a relay thread)."""
        try:
            pid = int(self.pidfile.read_text().split()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return None  # gone already (slapd removes its pidfile on the way out), or not up yet
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return None
        self._stopping = pid
        return pid

    def stop(self) -> None:
        """SIGTERM the PID in the pidfile and wait until slapd has gone (it removes the pidfile)."""
        pid = self.terminate() or self._stopping
        if pid is None:
            return
        self._stopping = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.02)
        os.kill(pid, signal.SIGKILL)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Slapd:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- data ------------------------------------------------------------------------------------

    def _tool(self, binary: str, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            [binary, "-x", "-H", self.url, "-D", ROOT_DN, "-y", str(self.password_file), *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{Path(binary).name} {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout

    def add(self, ldif: str) -> None:
        self._tool(self.ldapadd_bin, stdin=ldif)

    def modify(self, ldif: str) -> None:
        self._tool(self.ldapmodify_bin, stdin=ldif)

    def reset(self, ldif: str) -> None:
        """Everything below the suffix replaced by ``ldif`` (the suffix entry itself is kept)."""
        children = self._tool(
            self.ldapsearch_bin, "-LLL", "-b", SUFFIX, "-s", "one", "(objectClass=*)", "1.1"
        )
        dns = [line[4:] for line in children.splitlines() if line.startswith("dn: ")]
        if dns:
            self._tool(self.ldapdelete_bin, "-r", *dns)
        if not self._tool(self.ldapsearch_bin, "-LLL", "-b", SUFFIX, "-s", "base", "1.1").strip():
            raise RuntimeError("the suffix entry is missing")
        self.add(ldif)

    def init_suffix(self) -> None:
        self.add(f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n")
