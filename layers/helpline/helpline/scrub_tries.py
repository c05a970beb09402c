"""deduce's name, street and place tries, stored compactly so that the scrubber is ready in a second.

deduce keeps each multi-word lookup list (first names, surnames, streets, places, institutions) as a
`docdeid` `LookupTrie`: one Python object with its own dict per word of every entry. Its cache of them
is 77 MB of pickle that takes about three seconds to unpickle (millions of small objects), most of a
report function's cold start (`bench/reports.py`).

`CompactTrie` answers the same three questions (`children`, `in`, `longest_matching_prefix`) from a
`marisa_trie.Trie` of the entries, each entry's words joined by a separator: the whole set of tries is
under 9 MB and loads in tens of milliseconds. It is read-only: the layer build converts deduce's tries
once (`compact_lookup_structs`, called by `helpline.scrub.build`), and the structures are never
changed at run time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

import marisa_trie
from docdeid.ds.lookup import LookupStructure, LookupTrie

SEPARATOR: Final = "\x1f"
"""Between the words of one entry (ASCII unit separator): no word in deduce's lists contains it."""


def _entries(trie: Any, words: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every entry of a `LookupTrie`, as its words (already through the matching pipeline)."""
    if trie.is_terminal:
        yield words
    for word, child in trie.children.items():
        yield from _entries(child, (*words, word))


class CompactTrie(LookupTrie):
    """A read-only `LookupTrie` over a marisa trie: same answers, a fraction of the memory and load."""

    def __init__(self, trie: Any) -> None:
        """Copy `trie` (a docdeid `LookupTrie`), keeping its matching pipeline."""
        LookupStructure.__init__(self, matching_pipeline=trie.matching_pipeline)
        entries = [SEPARATOR.join(words) for words in _entries(trie)]
        self._keys = marisa_trie.Trie(entries)
        self._first_words = tuple(trie.children)
        self.is_terminal = trie.is_terminal

    @property
    def children(self) -> dict[str, None]:  # type: ignore[override]  # read-only, first words only
        """The first words of the entries (docdeid's annotator reads only the keys, once)."""
        return dict.fromkeys(self._first_words)

    def add_item(self, item: list[str]) -> None:
        raise TypeError("a CompactTrie is read-only: rebuild the scrubber data to change it")

    def _key(self, words: list[str]) -> str:
        return SEPARATOR.join(self._apply_matching_pipeline(word) for word in words)

    def __contains__(self, item: list[str]) -> bool:
        if any(SEPARATOR in word for word in item):
            return False
        return self._key(item) in self._keys

    def longest_matching_prefix(self, item: list[str], start_i: int = 0) -> list[str] | None:
        """The longest entry that `item[start_i:]` starts with, in matching form; None if none (as
        docdeid's, an empty entry never counts as a match)."""
        longest: list[str] | None = None
        words: list[str] = []
        key = ""
        for word in item[start_i:]:
            form = self._apply_matching_pipeline(word)
            if SEPARATOR in form:
                break
            key = form if not words else f"{key}{SEPARATOR}{form}"
            words.append(form)
            if key in self._keys:
                longest = list(words)
            if next(self._keys.iterkeys(key + SEPARATOR), None) is None:
                break  # no entry goes on past these words
        return longest


def compact_lookup_structs(structures: Any) -> int:
    """Replace, in place, every `LookupTrie` of a docdeid `DsCollection` by a `CompactTrie`; returns how
    many it replaced."""
    names = [name for name, value in structures.items() if isinstance(value, LookupTrie)]
    for name in names:
        if not isinstance(structures[name], CompactTrie):
            structures[name] = CompactTrie(structures[name])
    return len(names)
