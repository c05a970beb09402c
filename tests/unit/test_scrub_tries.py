"""The compact tries (helpline.scrub_tries) answer exactly as deduce's own `LookupTrie`s: the scrubber
must find the same names, streets and places after the layer build compacts them (P5, P8)."""

from __future__ import annotations

import pickle

import pytest
from docdeid.ds.ds import DsCollection
from docdeid.ds.lookup import LookupSet, LookupTrie
from docdeid.str import LowercaseString
from hypothesis import given, settings
from hypothesis import strategies as st

from helpline.scrub_tries import SEPARATOR, CompactTrie, compact_lookup_structs

WORDS = ["Jan", "de", "Vries", "van", "Dam", "Laan", "Oude", "Gracht", "jan", "DE", "-", ""]
ENTRIES = [
    ["Jan"],
    ["Jan", "de", "Vries"],
    ["van", "Dam"],
    ["Oude", "Gracht"],
    ["Oude", "Gracht", "Laan"],
    ["Laan"],
    ["-"],
]


def _tries(pipeline: bool) -> tuple[LookupTrie, CompactTrie]:
    original = LookupTrie(matching_pipeline=[LowercaseString()] if pipeline else None)
    for entry in ENTRIES:
        original.add_item(entry)
    return original, CompactTrie(original)


@settings(max_examples=400, derandomize=True, deadline=None)
@given(
    item=st.lists(st.sampled_from(WORDS), max_size=6),
    start=st.integers(min_value=0, max_value=6),
    pipeline=st.booleans(),
)
def test_the_same_answers_as_deduces_trie(item: list[str], start: int, pipeline: bool) -> None:
    original, compact = _tries(pipeline)
    assert compact.longest_matching_prefix(item, start_i=start) == original.longest_matching_prefix(
        item, start_i=start
    )
    assert (item in compact) == (item in original)
    assert set(compact.children) == set(original.children)


def test_a_longer_entry_wins_and_a_partial_one_does_not_count() -> None:
    _, compact = _tries(pipeline=False)
    assert compact.longest_matching_prefix(["Oude", "Gracht", "Laan", "3"]) == ["Oude", "Gracht", "Laan"]
    assert compact.longest_matching_prefix(["Jan", "de", "Boer"]) == ["Jan"]
    assert compact.longest_matching_prefix(["Oude", "Markt"]) is None
    assert ["Oude"] not in compact
    assert [f"Jan{SEPARATOR}de", "Vries"] not in compact  # the separator is never part of a word


def test_it_is_read_only_and_survives_pickling() -> None:
    _, compact = _tries(pipeline=True)
    with pytest.raises(TypeError, match="read-only"):
        compact.add_item(["Piet"])
    restored = pickle.loads(pickle.dumps(compact))  # noqa: S301 - our own bytes
    assert ["JAN"] in restored
    assert restored.longest_matching_prefix(["JAN", "x"]) == ["jan"]
    assert isinstance(restored, LookupTrie)  # deduce hands it to its annotators as a trie


def test_only_the_tries_of_a_collection_are_replaced() -> None:
    collection = DsCollection()
    collection["surname"], _ = _tries(pipeline=False)
    collection["whitelist"] = LookupSet()
    assert compact_lookup_structs(collection) == 1
    assert isinstance(collection["surname"], CompactTrie)
    assert type(collection["whitelist"]) is LookupSet
    assert compact_lookup_structs(collection) == 1  # already compact: left as it is
