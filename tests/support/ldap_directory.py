"""The sample OpenLDAP directory the LDAP tests load: people, managers, a locked user, groups of every kind.

* ``ou=people`` with ``ou=staff`` and ``ou=contractors`` below it; ``USERS`` inetOrgPerson
  users ``user000``..; ``user000`` manages ``user001``-``user005``, who manage the rest.
* ``user007`` holds two ``mail`` values and a ``jpegPhoto`` (binary).
* ``LOCKED`` is locked with ppolicy's ``pwdAccountLockedTime`` (applied by :func:`lock_ldif`, since
  an operational attribute cannot be given on add).
* ``ou=groups``: ``engineering`` (groupOfNames), ``sales`` (groupOfUniqueNames, one value with a
  ``#'0101'B`` suffix), ``developers`` (posixGroup, memberUid), ``leadership`` (groupOfNames holding
  the ``engineering`` group and ``user000``: nested), and ``everyone`` (groupOfNames, every user).
* ``ou=elsewhere``: ``outsider``, outside the users' search base, a member of ``engineering`` and
  the manager of ``user006``: both references must be dropped, not invented.
"""

from __future__ import annotations

from tests.support.slapd import SUFFIX

USERS = 40
LOCKED = "user039"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
JPEG = "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDA=="


def uid(n: int) -> str:
    return f"user{n:03d}"


def user_dn(n: int) -> str:
    ou = "contractors" if n % 10 == 9 else "staff"
    return f"uid={uid(n)},ou={ou},{PEOPLE}"


def manager_of(n: int) -> int | None:
    if n == 0:
        return None
    if n <= 5:
        return 0
    return 1 + n % 5


def mail(n: int) -> str:
    return f"{uid(n)}@example.org"


def engineering() -> list[int]:
    return list(range(1, 16))


def sales() -> list[int]:
    return list(range(16, 26))


def developers() -> list[int]:
    return list(range(10, 20))


def _user(n: int) -> str:
    lines = [
        f"dn: {user_dn(n)}",
        "objectClass: inetOrgPerson",
        f"uid: {uid(n)}",
        f"cn: Given{n} Family{n}",
        f"sn: Family{n}",
        f"givenName: Given{n}",
        f"mail: {mail(n)}",
        f"title: Title {n % 4}",
        f"departmentNumber: D{n % 3}",
        f"employeeNumber: E{n:04d}",
        f"telephoneNumber: +1 555 01{n:02d}",
        "l: Lyon",
        "st: Rhone",
    ]
    boss = manager_of(n)
    if boss is not None:
        lines.append(f"manager: {user_dn(boss)}")
    if n == 6:
        lines.append(f"manager: uid=outsider,ou=elsewhere,{SUFFIX}")
    if n == 7:
        lines += [f"mail: second.{mail(n)}", f"jpegPhoto:: {JPEG}"]
    return "\n".join(lines)


def _group_of_names(cn: str, members: list[str]) -> str:
    return "\n".join(
        [f"dn: cn={cn},{GROUPS}", "objectClass: groupOfNames", f"cn: {cn}"]
        + [f"member: {m}" for m in members]
    )


def directory_ldif() -> str:
    """The whole directory below the suffix, in the order ldapadd needs (parents first)."""
    entries = [
        f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people",
        f"dn: ou=staff,{PEOPLE}\nobjectClass: organizationalUnit\nou: staff",
        f"dn: ou=contractors,{PEOPLE}\nobjectClass: organizationalUnit\nou: contractors",
        f"dn: ou=elsewhere,{SUFFIX}\nobjectClass: organizationalUnit\nou: elsewhere",
        f"dn: uid=outsider,ou=elsewhere,{SUFFIX}\nobjectClass: inetOrgPerson\nuid: outsider\n"
        "cn: Out Sider\nsn: Sider\nmail: outsider@example.org",
        f"dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups",
    ]
    entries += [_user(n) for n in range(USERS)]
    entries.append(
        _group_of_names(
            "engineering", [user_dn(n) for n in engineering()] + [f"uid=outsider,ou=elsewhere,{SUFFIX}"]
        )
    )
    sales_members = [user_dn(n) for n in sales()]
    sales_members[0] += "#'0101'B"
    entries.append(
        "\n".join(
            [f"dn: cn=sales,{GROUPS}", "objectClass: groupOfUniqueNames", "cn: sales"]
            + [f"uniqueMember: {m}" for m in sales_members]
        )
    )
    entries.append(
        "\n".join(
            [f"dn: cn=developers,{GROUPS}", "objectClass: posixGroup", "cn: developers", "gidNumber: 5000"]
            + [f"memberUid: {uid(n)}" for n in developers()]
        )
    )
    entries.append(_group_of_names("leadership", [f"cn=engineering,{GROUPS}", user_dn(0)]))
    entries.append(_group_of_names("everyone", [user_dn(n) for n in range(USERS)]))
    return "\n\n".join(entries) + "\n"


def lock_ldif(n: int) -> str:
    """ppolicy's administrative lock (``000001010000Z``) on one user."""
    return (
        f"dn: {user_dn(n)}\nchangetype: modify\n"
        "add: pwdAccountLockedTime\npwdAccountLockedTime: 000001010000Z\n"
    )


def unlock_ldif(n: int) -> str:
    return f"dn: {user_dn(n)}\nchangetype: modify\ndelete: pwdAccountLockedTime\n"
