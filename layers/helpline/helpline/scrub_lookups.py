"""Names, places and streets that deduce's own lists know but its patterns miss (P5, P8).

deduce finds a name by its capital: `Noor` is a first name in its list, `noor` and `NOOR` are not
looked up, and an unknown `Pino` is found only beside a known name. Chat is typed in lower case and
some callers shout, so this module looks words up in deduce's lists (first names, surnames, places,
streets; its whitelist of common Dutch words keeps `Ben`, `Hoop` and `Leiden` out) where the casing
hides them, and uses cues in the text where no list can help:

- A word in capitals (`ANOUK JANSEN`), or any word of a text typed wholly in lower case
  (`ik ben lotte`), is a name if its capitalised form is a first name in deduce's list; the name runs
  on over surnames from the list (`anouk jansen`) and name particles (`van den`).
- After `heet`, `noemt zich`, `mijn naam is`, `zeg maar` any word but a common one is a name (`Pino`,
  `Bolle`); after a relation (`haar vriend`, `mijn zus`) a capitalised word is (`Mo`), and a lower-case
  one if it is a first name (`mijn zus roos`); after `ik ben` or a greeting, a first name is.
- After `in`, `uit`, `naar`, `te` a capitalised word is a place if deduce's raw place list has it
  (`Leiden`, whitelisted as the verb `leiden`) or if it is no common word and no country, language or
  holiday (`Antwerpen`, `Keulen`: deduce's list is Dutch only). In a lower-case text, a word after
  those is a place if it is in the place list (`uit groningen`).
- deduce finds a street without a house number (`Dorpsstraat`) and then drops it; the scrubber keeps
  it when it is no common word (`Morgen` is in deduce's street list) and, at the start of a sentence,
  only when it ends as a street does (`-straat`, `-laan`, `-weg` ...).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Final, NamedTuple

from helpline.scrub_patterns import words
from helpline.scrub_quasi import PERSON_NOUNS, Found, lowercase_style, opens_sentence

_WORD: Final = re.compile("[^\\W\\d_]+(?:['\u2019-][^\\W\\d_]+)*")
_PIECES: Final = re.compile(r"\w+|[^\w\s]")
_TAG: Final = re.compile(r"\[[A-Z]+(?:-\d+)?\]")

_NAMING: Final = re.compile(
    r"(?:\b(?:heet|heette|heten)|\bnoem(?:t|de|den|en)?\s+(?:zich|hem|haar|me|mij|ons|mezelf|zichzelf)"
    r"|\b(?:naam|voornaam|achternaam|bijnaam|roepnaam|schuilnaam)(?:\s+[^\W\d_]+){0,3}\s+(?:is|was)"
    r"|\bzeg(?:gen)?\s+maar)\s*[:,]?\s*[\"'“]?",
    re.IGNORECASE,
)
_NOT_NAMING: Final = re.compile(r"\b(?:het|dat|dit|wat|hoe|zo|die|er)\s+heet\s*", re.IGNORECASE)
_INTRODUCING: Final = re.compile(
    r"(?:\bik\s+ben|\bben\s+ik|\bhier\s+is|\bgroet(?:en|jes)?|\bliefs|\bdoei|\bhoi|\bhallo|\bhey)\s*[:,]?\s*",
    re.IGNORECASE,
)
_RELATION: Final = re.compile(
    rf"\b(?:mijn|m'n|zijn|z'n|haar|hun|onze|ons|je|jouw|de|het)\s+(?:{PERSON_NOUNS}|mentor|juf|meester"
    r"|leraar|lerares|docent|trainer|coach|baas|therapeut|psycholoog|begeleider|huisarts|pleegmoeder"
    r"|pleegvader|zwager|schoonzus|verloofde|date|stiefmoeder|stiefvader)\s*,?\s*",
    re.IGNORECASE,
)
_LOCATIVE: Final = re.compile(
    r"\b(?:in|uit|naar|te|vanuit|nabij|richting|omgeving|rond|buurt\s+van)\s+", re.IGNORECASE
)
_STREET_AFTER: Final = re.compile(r"\b(?:in|op|aan|naar|bij|over|via|van|langs)\s+de\s+", re.IGNORECASE)
_STREET_END: Final = re.compile(
    r"(?:straat|laan|weg|plein|gracht|singel|kade|dijk|dreef|steeg|hof|park|markt|baan|plantsoen|boulevard"
    r"|allee|burgwal|wal|straatweg)$",
    re.IGNORECASE,
)
_LOWER_STREET_END: Final = re.compile(r"..(?:straat|laan|weg|plein|gracht|singel|kade|dijk|dreef|steeg)$")
"""A lower-case street is a compound with one of the surest endings (`kastanjelaan`, not `markt`)."""
_DETERMINER: Final = re.compile(
    r"\b(?:de|het|een|geen|mijn|m'n|je|jouw|zijn|z'n|haar|onze|ons|hun|jullie|welke|elke)\s+", re.IGNORECASE
)
"""Before a word, a determiner makes it a noun: `een storm`, `mijn iris`, not a name."""
_DETERMINER_AT_END: Final = re.compile(_DETERMINER.pattern + "$", re.IGNORECASE)
_NOT_A_NAME_AFTER_NAMING: Final = words(
    "eigenlijk anders officieel voluit trouwens eigen zelf echt gewoon zo ook niet helemaal"
)
_TITLE: Final = re.compile(r"([^\W\d_]+)\.?\s+")
_SINGLE_INTERFIXES: Final = words("van de der den ter te het 't la le el al da di du von vd")
NOT_A_NAME_OR_PLACE: Final = words(
    # Capitalised words that name nowhere small after `in` or `naar`, and no one after `een` or `het`
    # (`een Duits nummer`); elsewhere they may be names (`Frans`, `Winter`), so they are kept there.
    "nederland holland belgië vlaanderen duitsland frankrijk engeland spanje italië portugal griekenland "
    "turkije marokko suriname curaçao aruba antillen polen roemenië bulgarije oekraïne rusland syrië irak "
    "iran afghanistan eritrea somalië ethiopië china japan india indonesië amerika canada australië europa "
    "afrika azië nederlands engels frans duits arabisch turks pools spaans god allah jezus christus kerst "
    "kerstmis pasen pinksteren sinterklaas ramadan suikerfeest offerfeest koningsdag oudjaar nieuwjaar "
    "maandag dinsdag woensdag donderdag vrijdag zaterdag zondag whatsapp instagram tiktok snapchat facebook "
    "netflix youtube google discord twitter lente zomer herfst winter marokkaans turks surinaams antilliaans "
    "belgisch syrisch afghaans eritrees somalisch iraaks iraans pools roemeens bulgaars oekraïens russisch "
    "chinees indonesisch indisch amerikaans brits spaans italiaans portugees grieks hollands vlaams fries "
    "moslim christen christelijk joods hindoe katholiek protestants islamitisch"
)


class _Word(NamedTuple):
    text: str
    start: int
    end: int


class _Cues(NamedTuple):
    """Where in a text each kind of cue ends: a word starting there follows the cue. Found once per
    text, not searched for before every word."""

    naming: frozenset[int]
    introducing: frozenset[int]
    relation: frozenset[int]
    locative: frozenset[int]
    street: frozenset[int]
    determiner: frozenset[int]

    @classmethod
    def of(cls, text: str) -> _Cues:
        def ends(pattern: re.Pattern[str]) -> frozenset[int]:
            return frozenset(match.end() for match in pattern.finditer(text))

        return cls(
            ends(_NAMING) - ends(_NOT_NAMING),
            ends(_INTRODUCING),
            ends(_RELATION),
            ends(_LOCATIVE),
            ends(_STREET_AFTER),
            ends(_DETERMINER),
        )


def raw_place_names(lookup_data_path: Path) -> frozenset[str]:
    """deduce's place list as it is on disk, before its whitelist took `Leiden` and `Best` out.

    Raises OSError if deduce's list is not there (the scrubber then fails closed).
    """
    folder = lookup_data_path / "src" / "locations" / "lst_placename"
    names: set[str] = set()
    for items in sorted(folder.rglob("items.txt")):
        names.update(line.strip().lower() for line in items.read_text(encoding="utf-8").splitlines())
    names.discard("")
    if not names:
        raise FileNotFoundError(f"no place names under {folder}")
    return frozenset(names)


class Lookups:
    """deduce's lookup structures, asked the questions this module needs; read-only, so thread-safe."""

    def __init__(self, structures: Any, raw_places: frozenset[str]) -> None:
        self._first_names = structures["first_name"]
        self._surnames = structures["surname"]
        self._whitelist = structures["whitelist"]
        self._prefixes = structures["prefix"]
        self._places = structures["placename"]
        self._streets = structures["street"]
        self._raw_places = raw_places

    def is_common(self, word: str) -> bool:
        """A common Dutch word (deduce's whitelist: frequent words, stop words, medical terms)."""
        return word.lower() in self._whitelist

    def _in(self, trie: Any, form: str) -> bool:
        return _PIECES.findall(form) in trie

    def is_first_name(self, form: str) -> bool:
        return self._in(self._first_names, form) and not self.is_common(form)

    def is_surname(self, form: str) -> bool:
        return self._in(self._surnames, form) and not self.is_common(form)

    # ------------------------------------------------------------ names and places

    def spans(self, text: str) -> list[Found]:
        """The names and places in `text` that deduce's patterns miss, as spans."""
        masked = _TAG.sub(lambda tag: " " * len(tag.group(0)), text)
        words = [_Word(m.group(0), m.start(), m.end()) for m in _WORD.finditer(masked)]
        lower = lowercase_style(masked)
        cues = _Cues.of(masked)
        cued = cues.naming | cues.introducing | cues.relation | cues.locative | cues.street
        found: list[Found] = []
        for index, word in enumerate(words):
            form = self._hidden_form(word.text, lower)
            if form is None and word.start not in cued:
                continue  # a word in its own case with no cue before it: deduce's business
            if self._starts_name(word, form, cues):
                found.append(self._name_from(words, index, masked, lower))
            elif word.start in cues.locative:
                place = self._place(word, form)
                if place:
                    found.append(place)
            elif lower and word.start in cues.street and self._lower_street(word.text):
                found.append(Found(word.start, word.end, "locatie"))
        return found

    def _lower_street(self, word: str) -> bool:
        """In a lower-case text, `in de kastanjelaan`: a street compound from deduce's list."""
        return (
            bool(_LOWER_STREET_END.search(word))
            and not self.is_common(word)
            and self._in(self._streets, word.capitalize())
        )

    def _hidden_form(self, word: str, lower: bool) -> str | None:
        """The word as deduce's lists spell a name, where the casing hides it; else None."""
        if len(word) >= 2 and word.isupper():
            return word.title()
        if lower and word.islower():
            return word.title()
        return None

    def _starts_name(self, word: _Word, form: str | None, cues: _Cues) -> bool:
        text, at = word.text, word.start
        if text in self._prefixes:  # `mevrouw`, `dhr`: deduce takes the name after it
            return False
        if form and self.is_first_name(form) and at not in cues.determiner:
            return True
        if at in cues.relation and text[0].isupper() and not form:
            return text.lower() not in NOT_A_NAME_OR_PLACE  # `haar ex Winter`, not `vader Marokkaans`
        if self.is_common(text):
            return False
        if at in cues.naming:
            return text.lower() not in _NOT_A_NAME_AFTER_NAMING
        first_name = self.is_first_name(form or text.title())
        return first_name and (at in cues.relation or at in cues.introducing)

    def _name_from(self, words: list[_Word], index: int, text: str, lower: bool) -> Found:
        """The name that starts at `words[index]`, run on over surnames and particles."""
        end = index
        for nxt in range(index + 1, min(index + 5, len(words))):
            gap = text[words[nxt - 1].end : words[nxt].start]
            if gap not in (" ", "-"):
                break
            token = words[nxt].text
            if token.lower() in _SINGLE_INTERFIXES:  # taken only if a surname follows
                continue
            form = self._hidden_form(token, lower)
            surname = self.is_surname(form) if form else token[0].isupper() and not self.is_common(token)
            if not surname:
                break
            end = nxt
        return Found(words[index].start, words[end].end, "persoon")

    def _place(self, word: _Word, form: str | None) -> Found | None:
        if form:  # only deduce's own list, from which its whitelist took `Een` (a village) out
            return Found(word.start, word.end, "locatie") if self._in(self._places, form) else None
        if not word.text[0].isupper():
            return None
        if word.text.lower() in NOT_A_NAME_OR_PLACE:
            return None
        if word.text.lower() in self._raw_places or not self.is_common(word.text):
            return Found(word.start, word.end, "locatie")
        return None

    def is_person(self, text: str, start: int, end: int) -> bool:
        """Whether deduce's person find `text[start:end]` is one: not a language, country or season
        after a determiner or opening a sentence (`een Duits nummer`, `Zomer is zwaar`)."""
        if text[start:end].lower() not in NOT_A_NAME_OR_PLACE:
            return True
        after_determiner = _DETERMINER_AT_END.search(text[max(0, start - 20) : start])
        return not (after_determiner or opens_sentence(text, start))

    def without_title(self, text: str) -> int:
        """How many characters of a person find are a title before the name (`mevrouw `, `dhr. `):
        the title stays readable, it names no one."""
        first = _TITLE.match(text)
        if first and first.group(1) in self._prefixes and len(text) > first.end():
            return first.end()
        return 0

    # ------------------------------------------------------------ streets

    def is_street(self, text: str, start: int, end: int) -> bool:
        """Whether deduce's bare street find `text[start:end]` (no house number) is a street."""
        street = text[start:end]
        if not street[:1].isupper() or self.is_common(street) or street.lower() in NOT_A_NAME_OR_PLACE:
            return False  # `de wijk`, `Morgen`, `Kerst` are in deduce's street list
        return not opens_sentence(text, start) or bool(_STREET_END.search(street))
