"""Time a whole LDAP source read (paged search, schema, decoding, member resolution) against a real slapd.

    .venv/bin/python -m benchmarks.ldap_read --users 20000 --group-size 1000

It loads the users offline with ``slapadd`` (fast; overlays are bypassed, which the read does not
need), starts slapd on a free port, runs :class:`LdapSource.read` and prints entries per second.
"""

from __future__ import annotations

import argparse
import subprocess
import time

from syncer.adapters.sources.ldap import LdapSource
from syncer.settings import LdapSourceSettings
from tests.support.slapd import ROOT_DN, ROOT_PW, SUFFIX, Slapd


def _ldif(users: int, group_size: int) -> str:
    entries = [
        f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example",
        f"dn: ou=people,{SUFFIX}\nobjectClass: organizationalUnit\nou: people",
        f"dn: ou=groups,{SUFFIX}\nobjectClass: organizationalUnit\nou: groups",
    ]
    for n in range(users):
        boss = f"\nmanager: uid=u{n // 10:06d},ou=people,{SUFFIX}" if n else ""
        entries.append(
            f"dn: uid=u{n:06d},ou=people,{SUFFIX}\nobjectClass: inetOrgPerson\nuid: u{n:06d}\n"
            f"cn: User {n}\nsn: User\ngivenName: Number{n}\nmail: u{n:06d}@example.org\n"
            f"title: Engineer\ndepartmentNumber: D{n % 20}\nemployeeNumber: E{n:06d}{boss}"
        )
    for g in range(max(1, users // group_size)):
        members = "".join(
            f"\nmember: uid=u{n:06d},ou=people,{SUFFIX}"
            for n in range(g * group_size, min(users, (g + 1) * group_size))
        )
        entries.append(
            f"dn: cn=g{g:04d},ou=groups,{SUFFIX}\nobjectClass: groupOfNames\ncn: g{g:04d}{members}"
        )
    return "\n\n".join(entries) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20000)
    parser.add_argument("--group-size", type=int, default=1000)
    parser.add_argument("--page-size", type=int, default=500)
    args = parser.parse_args()
    server = Slapd()
    try:
        ldif = server.dir / "big.ldif"
        ldif.write_text(_ldif(args.users, args.group_size))
        started = time.perf_counter()
        subprocess.run(
            ["slapadd", "-q", "-f", str(server.dir / "slapd.conf"), "-l", str(ldif)],
            check=True,
            capture_output=True,
        )
        print(f"slapadd: {args.users} users in {time.perf_counter() - started:.1f} s")
        server.start()
        settings = LdapSourceSettings.model_validate(
            {
                "type": "ldap",
                "url": server.url,
                "bind_dn": ROOT_DN,
                "password": ROOT_PW,
                "users": {"base": f"ou=people,{SUFFIX}"},
                "groups": {"base": f"ou=groups,{SUFFIX}"},
                "page_size": args.page_size,
            }
        )
        source = LdapSource(settings, password=ROOT_PW, ca_file=None)
        started = time.perf_counter()
        cpu = time.process_time()
        snapshot = source.read()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        entries = len(snapshot.users) + len(snapshot.groups)
        print(
            f"read: {len(snapshot.users)} users, {len(snapshot.groups)} groups, {source.pages} pages "
            f"in {elapsed:.1f} s ({cpu:.1f} s CPU in syncer): {entries / elapsed:,.0f} entries/s"
        )
    finally:
        server.close()


if __name__ == "__main__":
    main()
