"""``--why`` and ``--id`` find a source object by id, or by the name the admin knows."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from syncer.core.expressions import EvaluationContext
from syncer.core.findsource import AmbiguousSourceName, find_source_object
from syncer.core.mapping import CompiledMapping, compile_mapping
from syncer.settings import MappingFileSettings
from syncer.types import ObjectKind, SourceObject

NOW = EvaluationContext()


def _mapping() -> CompiledMapping:
    settings = MappingFileSettings.model_validate(
        {
            "users": [
                {"target": "userName", "source": "userPrincipalName", "match": 1},
                {"target": "displayName", "source": "displayName"},
            ],
            "groups": [{"target": "displayName", "source": "displayName", "match": 1}],
        }
    )
    return compile_mapping(settings, file="m.yaml")


def _user(source_id: str, upn: str, name: str = "Someone") -> SourceObject:
    return SourceObject(
        ObjectKind.USER, source_id, MappingProxyType({"userPrincipalName": upn, "displayName": name})
    )


PEOPLE = (_user("E-1", "alice@contoso.com", "Alice Archer"), _user("E-2", "bob@contoso.com", "Bob Holt"))


def test_the_id_wins_then_the_matching_value_in_any_case() -> None:
    assert find_source_object(PEOPLE, "E-2", _mapping(), NOW) is PEOPLE[1]
    assert find_source_object(PEOPLE, "ALICE@contoso.com", _mapping(), NOW) is PEOPLE[0]
    assert find_source_object(PEOPLE, "bob holt", _mapping(), NOW) is PEOPLE[1]
    assert find_source_object(PEOPLE, "carol@contoso.com", _mapping(), NOW) is None


def test_a_name_that_fits_two_objects_is_refused_naming_both() -> None:
    twins = (*PEOPLE, _user("E-3", "dave@contoso.com", "Alice Archer"))
    with pytest.raises(AmbiguousSourceName) as refused:
        find_source_object(twins, "Alice Archer", _mapping(), NOW)
    assert "E-1" in str(refused.value) and "E-3" in str(refused.value)


def test_an_id_equal_to_another_objects_name_is_the_id() -> None:
    tricky = (_user("bob@contoso.com", "x@contoso.com"), PEOPLE[1])
    assert find_source_object(tricky, "bob@contoso.com", _mapping(), NOW) is tricky[0]
