"""CSV as real HR exports write it: other delimiters, a groups file of its own, missing columns named.

Real files in tmp_path, read by the real file source.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from syncer.adapters.sources.files import FileSource
from syncer.errors import ConfigError, SourceError

SEMICOLON_EXPORT = "id;givenName;surname;mail\nu1;Zoë;Brandt;zoe@contoso.com\nu2;Ben;Kahn;ben@contoso.com\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, "utf-8")
    return path


def test_a_semicolon_export_read_as_commas_names_the_delimiter_to_set(tmp_path: Path) -> None:
    """The header splits into an id column by ';': the error says so, and which key to set."""
    users = write(tmp_path / "users.csv", SEMICOLON_EXPORT)
    with pytest.raises(SourceError) as failed:
        FileSource(users).read()
    assert str(failed.value) == (
        f"{users}:1: no 'id' column; the header looks ';'-separated: set source.delimiter: ';'"
    )


@pytest.mark.parametrize(
    ("delimiter", "shown"), [("\t", '"\\t"'), ("|", "'|'"), (",", "','")], ids=["tab", "pipe", "comma"]
)
def test_each_common_delimiter_is_suggested(tmp_path: Path, delimiter: str, shown: str) -> None:
    """Tab (written as YAML must quote it), pipe, and a comma file read with ';' are all recognised."""
    users = write(tmp_path / "users.csv", delimiter.join(["mail", "id", "givenName"]) + "\na;u1;b\n")
    configured = ";" if delimiter == "," else ","
    with pytest.raises(SourceError, match=re.escape(f"-separated: set source.delimiter: {shown}") + "$"):
        FileSource(users, delimiter=configured).read()


def test_the_delimiter_setting_reads_the_export(tmp_path: Path) -> None:
    """delimiter: ';' reads every cell in place."""
    users = write(tmp_path / "users.csv", SEMICOLON_EXPORT)
    snapshot = FileSource(users, delimiter=";").read()
    assert [(u.id, u.get("givenName"), u.get("mail")) for u in snapshot.users] == [
        ("u1", "Zoë", "zoe@contoso.com"),
        ("u2", "Ben", "ben@contoso.com"),
    ]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_auto_sniffs_the_delimiter_from_the_header(tmp_path: Path, delimiter: str) -> None:
    """delimiter: auto finds , ; tab or |, even with the other candidates inside quoted cells."""
    header = delimiter.join(["id", "displayName", "department"])
    row = delimiter.join(["u1", '"Kahn, Ben; Dr."', '"R|D"'])
    users = write(tmp_path / "users.csv", f"{header}\n{row}\n")
    (user,) = FileSource(users, delimiter="auto").read().users
    assert (user.id, user.get("displayName"), user.get("department")) == ("u1", "Kahn, Ben; Dr.", "R|D")


def test_auto_reads_a_single_column_file(tmp_path: Path) -> None:
    """A header of one column has no delimiter to find; it still reads."""
    users = write(tmp_path / "users.csv", "id\nu1\nu2\n")
    assert [u.id for u in FileSource(users, delimiter="auto").read().users] == ["u1", "u2"]


def test_without_a_better_delimiter_the_missing_column_and_the_header_are_named(tmp_path: Path) -> None:
    """No delimiter helps: the error lists the header's columns, so a renamed id column is seen."""
    users = write(tmp_path / "users.csv", "Personalnummer,Vorname,Nachname\n1,Zoë,Brandt\n")
    with pytest.raises(SourceError) as failed:
        FileSource(users).read()
    assert str(failed.value) == (
        f"{users}:1: no 'id' column (the header has 'Personalnummer', 'Vorname', 'Nachname'): "
        "every record needs its stable source id"
    )


@pytest.mark.parametrize("line_end", ["\n", "\r\n", "\r"])
def test_auto_sniffs_the_header_line_whatever_its_line_end(tmp_path: Path, line_end: str) -> None:
    users = write(tmp_path / "users.csv", line_end.join(["id;mail", "u1;a@contoso.com", "u2;b,c@x", ""]))
    snapshot = FileSource(users, delimiter="auto").read()
    assert [(u.id, u.get("mail")) for u in snapshot.users] == [("u1", "a@contoso.com"), ("u2", "b,c@x")]


def test_a_header_ending_in_a_delimiter_says_so(tmp_path: Path) -> None:
    users = write(tmp_path / "users.csv", "id;mail;\nu1;a@contoso.com;\n")
    with pytest.raises(SourceError, match=r"users\.csv:1: CSV column 3 has no name \(a delimiter at the end"):
        FileSource(users, delimiter=";").read()


def test_a_differently_cased_id_column_is_pointed_out(tmp_path: Path) -> None:
    users = write(tmp_path / "users.csv", "ID,mail\nu1,a@contoso.com\n")
    with pytest.raises(SourceError, match=r"no 'id' column \(there is 'ID'; column names are case-sens"):
        FileSource(users).read()


def test_the_groups_file_has_a_delimiter_of_its_own(tmp_path: Path) -> None:
    """A ',' users file with a ';' groups file (members quoted where they hold the delimiter)."""
    users = write(tmp_path / "users.csv", "id,mail\nu1,a@contoso.com\nu2,b@contoso.com\n")
    groups = write(tmp_path / "groups.csv", 'id;displayName;members\ng1;Sales;"u1;u2"\ng2;Empty;\n')
    snapshot = FileSource(users, groups, groups_delimiter=";").read()
    assert [u.id for u in snapshot.users] == ["u1", "u2"]
    assert [(g.id, g.get("displayName"), g.members) for g in snapshot.groups] == [
        ("g1", "Sales", ("u1", "u2")),
        ("g2", "Empty", ()),
    ]


def test_the_groups_delimiter_defaults_to_the_users_one(tmp_path: Path) -> None:
    users = write(tmp_path / "users.csv", "id|mail\nu1|a@contoso.com\n")
    groups = write(tmp_path / "groups.csv", "id|displayName|members\ng1|Sales|u1\n")
    assert FileSource(users, groups, delimiter="|").read().groups[0].members == ("u1",)


def test_a_groups_file_hint_names_the_groups_key(tmp_path: Path) -> None:
    """The users file is right; the advice for the groups file is its own key, not source.delimiter."""
    users = write(tmp_path / "users.csv", "id,mail\nu1,a@contoso.com\n")
    groups = write(tmp_path / "groups.csv", "id;displayName;members\ng1;Sales;u1\n")
    with pytest.raises(SourceError) as failed:
        FileSource(users, groups).read()
    assert str(failed.value) == (
        f"{groups}:1: no 'id' column; the header looks ';'-separated: set source.groups_delimiter: ';'"
    )


def test_the_members_separator_splits_a_members_cell(tmp_path: Path) -> None:
    """members_separator: ',' for a ';' groups file whose members cell lists ids with commas."""
    users = write(tmp_path / "users.csv", "id;mail\nu1;a@contoso.com\nu2;b@contoso.com\n")
    groups = write(tmp_path / "groups.csv", "id;displayName;members\ng1;Sales;u1, u2\n")
    snapshot = FileSource(users, groups, delimiter=";", members_separator=",").read()
    assert snapshot.groups[0].members == ("u1", "u2")


def test_unquoted_members_split_by_the_delimiter_skip_the_row_with_the_fix(tmp_path: Path) -> None:
    """``g1;Sales;u1;u2`` in a ';' file is four cells: that group is skipped, saying how to write it."""
    users = write(tmp_path / "users.csv", "id;mail\nu1;a@contoso.com\nu2;b@contoso.com\n")
    groups = write(tmp_path / "groups.csv", "id;displayName;members\ng1;Sales;u1;u2\ng2;Ops;u1\n")
    snapshot = FileSource(users, groups, delimiter=";").read()
    assert [g.id for g in snapshot.groups] == ["g2"]
    (skipped,) = snapshot.skipped
    assert skipped.location == f"{groups}:2" and skipped.id == "g1"
    assert "must be quoted" in skipped.reason and "source.members_separator" in skipped.reason


@pytest.mark.parametrize(
    "settings",
    [{"delimiter": ";;"}, {"delimiter": '"'}, {"groups_delimiter": ""}, {"members_separator": "\n"}],
)
def test_unusable_delimiters_are_config_errors(settings: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        FileSource(Path("users.csv"), **settings)  # type: ignore[arg-type]


LATIN1_EXPORT = "id;givenName;surname\nu1;Zoë;Müller\nu2;José;Ibáñez\n"


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "iso-8859-15"])
def test_the_encoding_setting_reads_a_legacy_export(tmp_path: Path, encoding: str) -> None:
    users = tmp_path / "users.csv"
    users.write_bytes(LATIN1_EXPORT.encode(encoding))
    snapshot = FileSource(users, delimiter=";", encoding=encoding).read()
    assert [(u.get("givenName"), u.get("surname")) for u in snapshot.users] == [
        ("Zoë", "Müller"),
        ("José", "Ibáñez"),
    ]


def test_a_latin1_export_read_as_utf8_names_line_and_column_and_the_setting(tmp_path: Path) -> None:
    """The first undecodable byte is at line 2, column 6 (after ``u1;Zo``), not at a byte offset."""
    users = tmp_path / "users.csv"
    users.write_bytes(LATIN1_EXPORT.encode("latin-1"))
    with pytest.raises(SourceError) as failed:
        FileSource(users, delimiter=";").read()
    assert str(failed.value) == (
        f"{users}:2:6: not utf-8 text (byte 0xeb: invalid continuation byte); "
        "set source.encoding to the file's encoding, such as 'cp1252' or 'latin-1'"
    )


def test_the_column_counts_characters_not_bytes(tmp_path: Path) -> None:
    """cp1252 has no character for byte 0x81: the column after ``u1;Zoë`` is 7 in characters."""
    users = tmp_path / "users.csv"
    users.write_bytes(b"id;givenName\nu1;Zo\xeb\x81\n")
    with pytest.raises(SourceError, match=r"users\.csv:2:7: not cp1252 text \(byte 0x81") as failed:
        FileSource(users, delimiter=";", encoding="cp1252").read()
    assert str(failed.value).endswith("such as 'latin-1'")


@pytest.mark.parametrize("encoding", ["utf-8", "UTF8", "utf-8-sig"])
def test_a_utf8_byte_order_mark_is_skipped(tmp_path: Path, encoding: str) -> None:
    users = tmp_path / "users.csv"
    users.write_bytes(b"\xef\xbb\xbf" + "id,givenName\nu1,Zoë\n".encode())
    (user,) = FileSource(users, encoding=encoding).read().users
    assert (user.id, user.get("givenName")) == ("u1", "Zoë")


def test_utf16_with_its_byte_order_mark_reads_when_set_and_is_named_when_not(tmp_path: Path) -> None:
    users = tmp_path / "users.csv"
    users.write_bytes("id,givenName\nu1,Zoë\n".encode("utf-16"))
    assert FileSource(users, encoding="utf-16").read().users[0].get("givenName") == "Zoë"
    with pytest.raises(SourceError, match=r"users\.csv:1:1: .*such as 'utf-16'"):
        FileSource(users).read()


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["plain", "bom"])
def test_a_utf8_file_set_to_latin1_is_refused_not_garbled(tmp_path: Path, bom: bytes) -> None:
    """Latin-1 decodes any bytes: read so, ``Zoë`` would reach the target as ``ZoÃ«``. Refused instead."""
    users = tmp_path / "users.csv"
    users.write_bytes(bom + "id;givenName\nu1;Zoë\n".encode())
    where = "1:1" if bom else "2:6"
    refused = rf"users\.csv:{where}: this file is UTF-8.*source\.encoding: utf-8"
    with pytest.raises(SourceError, match=refused):
        FileSource(users, delimiter=";", encoding="latin-1").read()


def test_the_encoding_applies_to_the_groups_file_and_to_yaml(tmp_path: Path) -> None:
    users = tmp_path / "users.csv"
    users.write_bytes("id;givenName\nu1;Zoë\n".encode("latin-1"))
    groups = tmp_path / "groups.yaml"
    groups.write_bytes("groups:\n  - {id: g1, displayName: Vertrieb Süd, members: [u1]}\n".encode("latin-1"))
    snapshot = FileSource(users, groups, delimiter=";", encoding="latin-1").read()
    assert snapshot.groups[0].get("displayName") == "Vertrieb Süd"


@pytest.mark.parametrize("encoding", ["latin-2x", "rot13", ""])
def test_an_unknown_encoding_is_a_config_error(encoding: str) -> None:
    with pytest.raises(ConfigError, match=r"source\.encoding"):
        FileSource(Path("users.csv"), encoding=encoding)


def test_a_groups_file_without_a_members_column_is_refused_naming_it(tmp_path: Path) -> None:
    """Read on, every group would be empty and lose its members on the target: the read fails whole."""
    users = write(tmp_path / "users.csv", "id,mail\nu1,a@contoso.com\n")
    groups = write(tmp_path / "groups.csv", "id,displayName,member\ng1,Sales,u1\n")
    with pytest.raises(SourceError) as failed:
        FileSource(users, groups).read()
    assert str(failed.value) == (
        f"{groups}:1: no 'members' column (the header has 'id', 'displayName', 'member'): without it "
        "every group would read as empty and lose its members (cells may be empty)"
    )


def test_a_delimiter_is_suggested_only_when_it_gives_every_required_column(tmp_path: Path) -> None:
    """Split by ';' this header has 'members' but loses 'id': no advice that would trade one for the other."""
    users = write(tmp_path / "users.csv", "id,mail\nu1,a@contoso.com\n")
    groups = write(tmp_path / "groups.csv", "id,displayName;members\ng1,Sales;u1\n")
    with pytest.raises(SourceError) as failed:
        FileSource(users, groups).read()
    assert "no 'members' column (the header has 'id', 'displayName;members')" in str(failed.value)


def test_an_empty_members_column_reads_as_groups_without_members(tmp_path: Path) -> None:
    users = write(tmp_path / "users.csv", "id\nu1\n")
    groups = write(tmp_path / "groups.csv", "id,displayName,members\ng1,Sales,\n")
    assert FileSource(users, groups).read().groups[0].members == ()
