"""LDAP entry decoding as pure functions, on attribute values recorded from OpenLDAP and Active Directory."""

from __future__ import annotations

import pytest

from syncer.adapters.sources.ldap import LdapSource
from syncer.adapters.sources.ldapentries import (
    AttributeRule,
    AttributeType,
    EntryOptions,
    RawEntry,
    Schema,
    build_snapshot,
    decode_values,
    guid_text,
    is_disabled_uac,
    normalize_dn,
    parse_range,
    range_page,
    schema_from_types,
    sid_text,
    split_ranges,
    unique_member_dn,
)
from syncer.errors import SourceError
from syncer.settings import LdapSourceSettings
from syncer.types import ObjectKind

U, G = ObjectKind.USER, ObjectKind.GROUP

# objectGUID as AD sends it: the first three fields little-endian (MS-DTYP 2.3.4.2)
AD_GUID_BYTES = bytes.fromhex("785634123412785612345678" + "9abcdef0")
AD_GUID_TEXT = "12345678-1234-5678-1234-56789abcdef0"
# S-1-5-32-544 (BUILTIN\Administrators) as AD sends objectSid
ADMINISTRATORS_SID = bytes.fromhex("01020000000000052000000020020000")
DIRECTORY_STRING = "1.3.6.1.4.1.1466.115.121.1.15"
INTEGER = "1.3.6.1.4.1.1466.115.121.1.27"
OCTET_STRING = "1.3.6.1.4.1.1466.115.121.1.40"
DN_SYNTAX = "1.3.6.1.4.1.1466.115.121.1.12"

AD_SCHEMA = schema_from_types(
    [
        AttributeType(("objectGUID",), single=True, syntax=OCTET_STRING),
        AttributeType(("objectSid",), single=True, syntax=OCTET_STRING),
        AttributeType(("userAccountControl",), single=True, syntax=INTEGER),
        AttributeType(("sAMAccountName",), single=True, syntax=DIRECTORY_STRING),
        AttributeType(("mail",), single=True, syntax=DIRECTORY_STRING),
        AttributeType(("manager",), single=True, syntax=DN_SYNTAX),
        AttributeType(("member",), syntax=DN_SYNTAX),
        AttributeType(("proxyAddresses",), syntax=DIRECTORY_STRING),
        AttributeType(("cn",), single=True, syntax=DIRECTORY_STRING),
    ]
)
AD = EntryOptions(anchor="objectGUID", active_directory=True)


def _guid(n: int) -> bytes:
    return n.to_bytes(16, "little")


def _ad_user(n: int, uac: int = 512, **extra: list[bytes]) -> RawEntry:
    return RawEntry(
        dn=f"CN=User {n},OU=Staff,DC=corp,DC=example",
        attributes={
            "objectGUID": [_guid(n)],
            "objectSid": [ADMINISTRATORS_SID],
            "sAMAccountName": [f"user{n}".encode()],
            "mail": [f"user{n}@corp.example".encode()],
            "userAccountControl": [str(uac).encode()],
            **extra,
        },
    )


def test_object_guid_renders_as_the_standard_guid_string() -> None:
    """AD's objectGUID bytes become the GUID string AD tools show (first three fields little-endian)."""
    assert guid_text(AD_GUID_BYTES) == AD_GUID_TEXT


def test_object_guid_of_the_wrong_length_is_refused() -> None:
    """A value that is not 16 bytes is no GUID, and is not passed off as one."""
    with pytest.raises(ValueError, match="16 bytes"):
        guid_text(b"\x01\x02")


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (ADMINISTRATORS_SID, "S-1-5-32-544"),
        (
            bytes.fromhex("010500000000000515000000" + "a065cf7e" + "784b9b5f" + "e77c8770" + "f4010000"),
            "S-1-5-21-2127521184-1604012920-1887927527-500",
        ),
    ],
)
def test_object_sid_renders_as_its_s_1_text(raw: bytes, text: str) -> None:
    """A binary SID becomes its S-1-... text (MS-DTYP 2.4.2.2)."""
    assert sid_text(raw) == text


@pytest.mark.parametrize(
    ("value", "disabled"),
    [
        (512, False),  # NORMAL_ACCOUNT
        (514, True),  # NORMAL_ACCOUNT | ACCOUNTDISABLE
        (66048, False),  # NORMAL_ACCOUNT | DONT_EXPIRE_PASSWORD
        (66050, True),  # ... | ACCOUNTDISABLE
        ("546", True),  # as text, PASSWD_NOTREQD | ACCOUNTDISABLE | NORMAL_ACCOUNT
        ((514,), True),
        (None, False),
        ("garbage", False),
    ],
)
def test_user_account_control_bit_2_means_disabled(value: object, disabled: bool) -> None:
    """userAccountControl's ACCOUNTDISABLE bit (0x2) alone decides, whatever other flags are set."""
    assert is_disabled_uac(value) is disabled


@pytest.mark.parametrize(
    ("attribute", "parsed"),
    [
        ("member;range=0-1499", ("member", 0, 1499)),
        ("member;range=1500-*", ("member", 1500, None)),
        ("Member;Range=3000-4499", ("Member", 3000, 4499)),
        ("member", None),
        ("cn;lang-fr", None),
    ],
)
def test_parse_range_reads_ad_range_options(attribute: str, parsed: object) -> None:
    """AD's ranged attribute names give the attribute, the first index and the last (None for *)."""
    assert parse_range(attribute) == parsed


def test_a_large_ad_group_marks_its_member_range_as_unfinished() -> None:
    """A group with member;range=0-1499 (and an empty member) folds the values in and resumes at 1500."""
    first = [f"CN=U{i},DC=corp".encode() for i in range(1500)]
    attributes, pending = split_ranges({"cn": [b"Big"], "member": [], "member;range=0-1499": first})
    assert attributes["member"] == first
    assert pending == {"member": 1500}


def test_a_small_ad_group_needs_no_ranged_read() -> None:
    """A group whose members came inline has nothing pending."""
    attributes, pending = split_ranges({"member": [b"CN=A,DC=corp"]})
    assert attributes == {"member": [b"CN=A,DC=corp"]} and pending == {}


def test_range_pages_continue_until_the_star() -> None:
    """A middle page names the next start; the page ending in * is the last."""
    middle = {"member;range=1500-2999": [b"x"] * 1500}
    assert range_page(middle, "member", 1500) == ([b"x"] * 1500, 3000)
    last = {"member;range=3000-*": [b"y"] * 12}
    assert range_page(last, "member", 3000) == ([b"y"] * 12, None)


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ({"cn": [b"Big"]}, "sent no member;range=1500"),
        ({"member;range=1600-*": [b"z"]}, "sent from 1600"),
    ],
)
def test_a_ranged_reply_that_does_not_continue_is_an_error(
    reply: dict[str, list[bytes]], message: str
) -> None:
    """A follow-up without the ranged values, or from elsewhere, raises: a group missing members is wrong."""
    with pytest.raises(ValueError, match=message):
        range_page(reply, "member", 1500)


@pytest.mark.parametrize(
    ("one", "two"),
    [
        ("uid=alice,ou=people,dc=example,dc=org", "UID=Alice, OU=People, DC=Example, DC=org"),
        ("cn=Smith\\, John,ou=x", "cn=smith\\, john, ou=X"),
        ("cn=J\\C3\\BCrgen,ou=x", "cn=Jürgen,ou=x"),
        ("cn=a+uid=b,ou=x", "uid=b+cn=a,ou=x"),
    ],
)
def test_normalize_dn_gives_one_spelling_per_entry(one: str, two: str) -> None:
    """Case, spaces, escapes and RDN order do not make two DNs of one entry differ."""
    assert normalize_dn(one) == normalize_dn(two)


def test_normalize_dn_keeps_different_entries_apart() -> None:
    """An escaped comma is part of the value, not a separator."""
    assert normalize_dn("cn=Smith\\, John,ou=x") != normalize_dn("cn=Smith,cn=John,ou=x")


def test_unique_member_drops_the_optional_uid_suffix() -> None:
    """uniqueMember's #'0101'B unique identifier is not part of the DN."""
    assert unique_member_dn("uid=a,ou=p,dc=x#'0101'B") == "uid=a,ou=p,dc=x"
    assert unique_member_dn("uid=a,ou=p,dc=x") == "uid=a,ou=p,dc=x"


def test_schema_takes_the_syntax_from_the_superior_type() -> None:
    """givenName has no SYNTAX of its own in OpenLDAP's core schema; it inherits name's."""
    schema = schema_from_types(
        [
            AttributeType(("name",), syntax=DIRECTORY_STRING + "{32768}"),
            AttributeType(("givenName", "gn"), superior="name"),
            AttributeType(("uidNumber",), single=True, syntax=INTEGER),
            AttributeType(("jpegPhoto",), syntax="1.3.6.1.4.1.1466.115.121.1.28"),
        ]
    )
    assert schema.rule("GN") == AttributeRule("givenName", single=False, syntax="text")
    assert schema.rule("uidnumber") == AttributeRule("uidNumber", single=True, syntax="integer")
    assert schema.rule("jpegPhoto").syntax == "binary"
    assert schema.rule("unknownAttr") == AttributeRule("unknownAttr")


@pytest.mark.parametrize(
    ("rule", "raws", "value"),
    [
        (AttributeRule("mail"), [b"a@x"], ("a@x",)),
        (AttributeRule("mail"), [b"a@x", b"b@x"], ("a@x", "b@x")),
        (AttributeRule("employeeNumber", single=True), [b"E1"], "E1"),
        (AttributeRule("uidNumber", single=True, syntax="integer"), [b"1000"], 1000),
        (AttributeRule("flag", single=True, syntax="boolean"), [b"TRUE"], True),
        (AttributeRule("jpegPhoto", syntax="binary"), [b"\xff\xd8"], ("/9g=",)),
        (AttributeRule("description", single=True), [b"\xff\xfe"], "//4="),  # not UTF-8: kept intact
        (AttributeRule("objectGUID", single=True, syntax="binary"), [AD_GUID_BYTES], AD_GUID_TEXT),
    ],
)
def test_values_take_the_shape_and_type_of_their_schema(
    rule: AttributeRule, raws: list[bytes], value: object
) -> None:
    """Single-valued attributes give a value, others a tuple; integers, booleans and binaries are typed."""
    assert decode_values(rule, raws) == value


def test_ad_entries_become_users_with_guid_ids_and_resolved_managers() -> None:
    """objectGUID is the id, the manager DN becomes the manager's GUID, and UAC bit 2 sets accountEnabled."""
    boss = _ad_user(1)
    report = _ad_user(2, uac=514, manager=[b"cn=user 1, ou=staff,dc=CORP,dc=example"])
    snapshot = build_snapshot([boss, report], [], AD, AD_SCHEMA)
    by_id = {u.id: u for u in snapshot.users}
    boss_id, report_id = guid_text(_guid(1)), guid_text(_guid(2))
    assert set(by_id) == {boss_id, report_id}
    assert by_id[report_id].get("manager") == boss_id
    assert by_id[report_id].get("accountEnabled") is False
    assert by_id[boss_id].get("accountEnabled") is True
    assert by_id[boss_id].get("objectSid") == "S-1-5-32-544"
    assert by_id[boss_id].get("mail") == "user1@corp.example"
    assert by_id[boss_id].get("userAccountControl") == 512


def test_manager_outside_the_read_is_dropped_not_invented() -> None:
    """A manager DN that is no user read (another OU) leaves the attribute out."""
    user = _ad_user(1, manager=[b"CN=Somebody,OU=Elsewhere,DC=corp,DC=example"])
    [read] = build_snapshot([user], [], AD, AD_SCHEMA).users
    assert "manager" not in read.attributes


def test_secrets_are_never_imported() -> None:
    """Password attributes the bind account can read never reach a source object."""
    user = _ad_user(1, unicodePwd=[b"secret"], userPassword=[b"{SSHA}abc"])
    [read] = build_snapshot([user], [], AD, AD_SCHEMA).users
    assert not {"unicodePwd", "userPassword"} & set(read.attributes)


def test_entries_without_a_usable_anchor_are_skipped_with_their_dn() -> None:
    """No objectGUID, or one seen before, skips that entry with its DN; the others are read."""
    no_anchor = RawEntry("CN=Ghost,DC=corp", {"mail": [b"g@x"]})
    twin = RawEntry("CN=Twin,DC=corp", {"objectGUID": [_guid(1)]})
    snapshot = build_snapshot([_ad_user(1), no_anchor, twin], [], AD, AD_SCHEMA)
    assert len(snapshot.users) == 1
    assert [(s.location, s.reason) for s in snapshot.skipped] == [
        ("CN=Ghost,DC=corp", "entry has no objectGUID"),
        ("CN=Twin,DC=corp", "duplicate objectGUID: first read at CN=User 1,OU=Staff,DC=corp,DC=example"),
    ]


def test_group_members_resolve_to_user_and_nested_group_anchors() -> None:
    """member DNs become anchors of the users and groups read; unknown DNs are counted, not kept."""
    inner = RawEntry(
        "CN=Inner,OU=Groups,DC=corp",
        {"objectGUID": [_guid(100)], "member": [b"CN=User 1,OU=Staff,DC=corp,DC=example"]},
    )
    outer = RawEntry(
        "CN=Outer,OU=Groups,DC=corp",
        {
            "objectGUID": [_guid(101)],
            "member": [
                b"cn=inner,ou=groups,dc=corp",
                b"CN=User 2,OU=Staff,DC=corp,DC=example",
                b"CN=PC1,DC=corp",
            ],
        },
    )
    unresolved: dict[str, int] = {}
    snapshot = build_snapshot(
        [_ad_user(1), _ad_user(2)], [inner, outer], AD, AD_SCHEMA, unresolved=unresolved
    )
    groups = {g.id: g for g in snapshot.groups}
    assert groups[guid_text(_guid(101))].members == (guid_text(_guid(100)), guid_text(_guid(2)))
    assert groups[guid_text(_guid(100))].members == (guid_text(_guid(1)),)
    assert unresolved == {"member": 1}
    assert "member" not in groups[guid_text(_guid(101))].attributes


def test_a_configured_attribute_and_values_can_mark_disabled_users() -> None:
    """disabled_values limits which values of the disabled attribute count (nsAccountLock: TRUE)."""
    options = EntryOptions(anchor="entryUUID", disabled_attribute="nsAccountLock", disabled_values=("true",))
    schema = Schema()
    users = [
        RawEntry(f"uid={n}", {"entryUUID": [n.encode()], **({"nsAccountLock": [v.encode()]} if v else {})})
        for n, v in (("a", "TRUE"), ("b", "false"), ("c", ""))
    ]
    enabled = {u.id: u.get("accountEnabled") for u in build_snapshot(users, [], options, schema).users}
    assert enabled == {"a": False, "b": True, "c": True}


def test_the_fingerprint_ignores_the_order_entries_came_in() -> None:
    """Two reads of the same directory in another order give the same fingerprint; a change gives another."""
    one = build_snapshot([_ad_user(1), _ad_user(2)], [], AD, AD_SCHEMA).fingerprint
    two = build_snapshot([_ad_user(2), _ad_user(1)], [], AD, AD_SCHEMA).fingerprint
    three = build_snapshot([_ad_user(2), _ad_user(1, uac=514)], [], AD, AD_SCHEMA).fingerprint
    assert one == two != three


class _RecordedDomainController:
    """Replays what AD answered to the follow-up ``member;range=N-*`` reads of one group (no server)."""

    def __init__(self, replies: dict[str, dict[str, list[bytes]]]) -> None:
        self.replies = replies
        self.asked: list[str] = []
        self.response: list[dict[str, object]] = []
        self.result: dict[str, object] = {}

    def search(self, base: str, search_filter: str, **kwargs: object) -> None:
        [attribute] = kwargs["attributes"]  # type: ignore[misc]
        self.asked.append(attribute)
        self.response = [
            {"type": "searchResEntry", "dn": base, "raw_attributes": self.replies.get(attribute, {})}
        ]
        self.result = {"result": 0}


def _members(start: int, stop: int) -> list[bytes]:
    return [f"CN=U{i},OU=Staff,DC=corp".encode() for i in range(start, stop)]


def _ad_source() -> LdapSource:
    settings = LdapSourceSettings.model_validate(
        {"type": "ldap", "url": "ldaps://dc1", "flavour": "active_directory", "users": {"base": "DC=corp"}}
    )
    return LdapSource(settings, password=None, ca_file=None)


def test_ranged_member_reads_continue_until_the_last_range() -> None:
    """A 3,200-member AD group is completed with reads from 1500 and 3000, in that order, losing nothing."""
    group = RawEntry(
        "CN=Big,OU=Groups,DC=corp",
        {"objectGUID": [_guid(7)], "member": [], "member;range=0-1499": _members(0, 1500)},
    )
    dc = _RecordedDomainController(
        {
            "member;range=1500-*": {"member;range=1500-2999": _members(1500, 3000)},
            "member;range=3000-*": {"member;range=3000-*": _members(3000, 3200)},
        }
    )
    completed = _ad_source()._complete_ranges(dc, group)  # type: ignore[arg-type]
    assert dc.asked == ["member;range=1500-*", "member;range=3000-*"]
    assert completed.attributes["member"] == _members(0, 3200)


def test_a_ranged_read_that_stops_short_fails_the_read() -> None:
    """A follow-up without the ranged values raises SourceError: a group missing members never goes on."""
    group = RawEntry("CN=Big,DC=corp", {"objectGUID": [_guid(7)], "member;range=0-1499": _members(0, 1500)})
    dc = _RecordedDomainController({"member;range=1500-*": {"cn": [b"Big"]}})
    with pytest.raises(SourceError, match="sent no member;range=1500"):
        _ad_source()._complete_ranges(dc, group)  # type: ignore[arg-type]


def test_the_declared_names_are_the_schema_names_the_objects_carry() -> None:
    """A ``*`` search may return any type, under its first name; aliases point there; secrets never."""
    schema = schema_from_types(
        [
            AttributeType(("sn", "surname")),
            AttributeType(("departmentNumber",)),
            AttributeType(("userPassword",)),
            *[AttributeType((name,)) for name in ("objectGUID", "userAccountControl", "mail", "cn")],
        ]
    )
    user = _ad_user(1, mail=[b"a@contoso.com"], extensionAttribute1=[b"x"])
    requested = {U: ["*", "objectGUID"], G: ["cn", "member"]}
    declared = build_snapshot([user], [], AD, schema, requested=requested).declared
    assert declared is not None and declared.users is not None and declared.groups is not None
    assert {"sn", "departmentNumber", "mail", "extensionAttribute1", "dn", "accountEnabled"} <= declared.users
    assert "surname" not in declared.users and "userPassword" not in declared.users
    assert declared.aliases["surname"] == "sn"
    # a search for a list returns only those (member becomes the group's members)
    assert "departmentNumber" not in declared.groups and "cn" in declared.groups
    only_users = build_snapshot([user], [], AD, schema, requested={U: ["mail", "objectGUID"]}).declared
    assert only_users is not None and only_users.groups is None
    assert only_users.users is not None and "sn" not in only_users.users
