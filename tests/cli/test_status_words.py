"""A run's counts in words: what ``syncer status`` prints under the last cycle."""

from __future__ import annotations

from syncer.cli.views import readable_counts


def test_record_keys_become_words_and_requests_go_last() -> None:
    counts = {
        "Create.Success": 3,
        "Update.Failure": 1,
        "Other.Skipped": 2,
        "Disable.Success": 0,
        "members.added": 4,
        "requests.GET": 2,
        "requests.POST": 3,
        "source.objects": 60,
    }
    assert readable_counts(counts) == (
        "created 3, skipped (out of scope or not provisioned) 2, update failed 1, members added 4, "
        "source objects 60, requests: GET 2, POST 3"
    )


def test_an_unknown_key_is_shown_as_recorded() -> None:
    assert readable_counts({"Teleport.Success": 1, "escrowed": 0}) == "Teleport.Success 1"
