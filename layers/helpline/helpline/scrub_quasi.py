"""Quasi-identifiers found by pattern: ages, birth dates, schools, workplaces and clubs (P5, P8).

Each alone names nobody; together (a girl of 14, at the Stedelijk Gymnasium, born on 12 March) they
name one person, which P8 forbids for a report. deduce knows none of them but `14 jaar` and a full
date, so the report scrubber adds these spans to deduce's before redacting. They are spans, not
replacements, so that deduce numbers every tag of a report in one sequence (`[SCHOOL-1]`).

Every rule needs a cue in the text, not a list of the names to find: an age is a number after `van`
behind a person (`meisje van 14`), in brackets behind a word (`Ahmed (17)`), or said of someone
(`ze is pas 15`, `veertien jaar`); a date is a birth date only near `geboren`, `jarig` or
`verjaardag`; a school or a club is a capitalised name with a school word in it (`Erasmus College`)
or behind one (`basisschool De Regenboog`, `werkt bij Tata Steel`). What the cue does not reach stays,
so that times, amounts, durations and conversation dates (`om 14:30`, `€ 25`, `3 weken`, `op 1 april`)
are not lost. The word lists (units, person nouns, school and club words) describe Dutch, not people.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Final, NamedTuple

from helpline.scrub_patterns import words


class Found(NamedTuple):
    """A span to redact, with deduce's tag for it (`leeftijd`, `datum`, `school`, `locatie` ...)."""

    start: int
    end: int
    tag: str


IsCommon = Callable[[str], bool]
"""Whether a lower-case word is a common Dutch word (deduce's whitelist), so not a name."""

_SENTENCE_START: Final = re.compile(r"(?:^|[.!?]\s+|\n\s*)([^\W\d_])")


def lowercase_style(text: str) -> bool:
    """True for a text written all in lower case, as chat often is: there a lower-case word can be a
    name (`ik heet noor`), where in a text with capitals it would not be."""
    starts = [m.group(1) for m in _SENTENCE_START.finditer(text)]
    return bool(starts) and not any(c.isupper() for c in starts)


def opens_sentence(text: str, index: int) -> bool:
    """True if `text[index:]` starts a sentence: nothing but space since a full stop, a line or the start."""
    preceding = text[max(0, index - 12) : index].rstrip()
    if not preceding:
        return not text[:index].strip()
    return preceding[-1] in ".!?:\n\"'"


def shouting(text: str) -> bool:
    """True for a text mostly in capitals: there a capital says nothing about names."""
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 8 and sum(c.isupper() for c in letters) > 0.7 * len(letters)


# ---------------------------------------------------------------- shared vocabulary

PERSON_NOUNS: Final = (
    "meisje|meisjes|meid|jongen|jongens|jongetje|knul|man|vrouw|kind|kindje|kinderen|baby|dochter|dochters"
    "|dochtertje|zoon|zoons|zonen|zoontje|puber|tiener|zus|zusje|zussen|broer|broertje|broers|tweeling"
    "|moeder|vader|mama|papa|opa|oma|beller|belster|chatter|jongeman|dame|heer|buurman|buurvrouw|buurjongen"
    "|buurmeisje|vriend|vriendin|vriendje|vriendinnetje|neef|nicht|nichtje|neefje|oom|tante|stiefvader"
    "|stiefmoeder|stiefbroer|stiefzus|partner|ex|student|studente|leerling|iemand|weduwe|weduwnaar"
    "|kleinzoon|kleindochter|schoonmoeder|schoonvader|collega|klasgenoot|tweelingbroer|tweelingzus"
)
"""Nouns for a person: an age is said of one of these, and a name often follows one (`haar zus Sanne`)."""

_NUMBER_WORD: Final = (
    r"(?:(?:een|twee|drie|vier|vijf|zes|zeven|acht|negen)(?:en|ën)(?:twintig|dertig|veertig|vijftig"
    r"|zestig|zeventig|tachtig|negentig)|dertien|veertien|vijftien|zestien|zeventien|achttien|negentien"
    r"|twintig|dertig|veertig|vijftig|zestig|zeventig|tachtig|negentig|honderd|twaalf|elf|tien|twee|drie"
    r"|vier|vijf|zes|zeven|acht|negen)"
)
_AGE: Final = rf"(?:1[01]\d|[1-9]?\d|{_NUMBER_WORD})"
_MONTH: Final = (
    r"(?:januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december"
    r"|jan|feb|mrt|apr|jun|jul|aug|sept|sep|okt|nov|dec)"
)
_UNIT: Final = (
    rf"(?:uur|u|minuten|minuut|min|seconden|dagen|dag|weken|week|maanden|maand|keer|maal|euro|eur|cent"
    rf"|kilo|kg|gram|km|kilometer|meter|m|cm|procent|graden|stuks|pillen|tabletten|mg|ml|liter|tot"
    rf"|{_MONTH})"
)
_NOT_A_QUANTITY: Final = rf"(?!\s*(?:[.:,/-]\d|%|€)|\s+(?:{_UNIT}|{PERSON_NOUNS}|kleinkinderen)\b|\s*-)"
"""Not `van 14:30`, `van 3 weken`, `van 2 kinderen`: the number counts something, it is no age."""
_CLAUSE_END: Final = r"(?=\s*(?:[,;!?)]|[.:](?!\d)|$)|\s+(?:en|of|maar|dus|toen|want|geworden|nu)\b)"

# ---------------------------------------------------------------- ages

_AGE_IN_YEARS: Final = re.compile(
    rf"(?<![\d,.])\b(?P<n>{_AGE}(?:[.,]5)?(?:-{_AGE})?)[\s-]+(?:jaar|jarig|jarige|jr)\b", re.IGNORECASE
)
_BEFORE_A_DURATION: Final = words(
    # deduce's pre_pseudo words, and verbs and words before a number of years that is a duration.
    "al co controle de elke gedurende na nog ongeveer over sinds vanaf heeft had hebben hadden zat zit "
    "woont woonde werkt werkte duurt duurde wacht wachtte per om binnen paar tot elk ieder laatste "
    "afgelopen eerste komende volgende vorige ruim in voor"
)
_AFTER_A_DURATION: Final = words(
    "aanwezig gebruikt geleden gerookt gestaakt gestopt getrouwd na naar nadien samen lang later eerder "
    "relatie bezig ouder jonger in op bij gewerkt gewoond gezeten voor cel celstraf lid"
)
_SUBJECT: Final = (
    rf"(?:ik|hij|ze|zij|je|jij|u|die|(?:de|het|een|mijn|m'n|zijn|z'n|haar|onze|ons|hun)\s+(?:{PERSON_NOUNS})"
    r"|(?-i:(?!(?:Het|Dat|Dit|Er|Wat|Alles|Niets|Niemand|Iets)\b)[A-Z][a-zà-ÿ]+))"
)
"""Who an age is said of: a pronoun, a person noun, or a name (`Youri is 19`, not `Het is 3`)."""
_ADVERB: Final = r"(?:\s+(?:nu|pas|net|bijna|al|nog|maar|toen|inmiddels|ongeveer|zo'n|rond|sinds\s+kort))"
_SAID_AGE: Final = re.compile(
    # `ze is pas 15`, `ben ik 14`, `hij wordt volgende week 18`: a number said of a person, then the
    # end of the clause (not `ze is 3 keer ...`).
    rf"\b(?:{_SUBJECT}\s+(?:is|was|ben|word|wordt|werd)|(?:ben|word|werd)\s+ik|(?:is|was|wordt|werd)\s+(?:hij|ze|zij))"
    rf"(?:{_ADVERB}{{0,2}}|(?:\s+(?:over|volgende|komende|deze|in|op|morgen|overmorgen|binnenkort|straks"
    rf"|\d{{1,2}}|week|weken|maand|maanden|dagen|dag|jaar)){{1,3}})\s+(?P<n>{_AGE})\b{_CLAUSE_END}",
    re.IGNORECASE,
)
_AGE_OF_PERSON: Final = re.compile(
    # `meisje van 14`, `twee kinderen, van 4 en 6`.
    rf"\b(?:{PERSON_NOUNS})\s*,?\s+van\s+(?P<n>{_AGE})\b{_NOT_A_QUANTITY}"
    rf"(?P<more>(?:\s*(?:,|en)\s*{_AGE}\b{_NOT_A_QUANTITY})*)",
    re.IGNORECASE,
)
_AGE_IN_BRACKETS: Final = re.compile(
    r"(?<=[^\W\d_])\s*\(\s*(?P<n>1[01]\d|[1-9]?\d)\s*(?:jaar|jr\.?|j\.?)?\s*\)", re.IGNORECASE
)
_AGE_BIRTHDAY: Final = re.compile(
    rf"\b(?P<n>\d{{1,3}}(?:ste|de|e)|{_NUMBER_WORD}(?:ste|de))\s+(?:verjaardag|levensjaar)\b", re.IGNORECASE
)
_NUMBER: Final = re.compile(rf"\b{_AGE}\b", re.IGNORECASE)
_WORD_BEFORE: Final = re.compile(r"([^\W\d_]+)\W*$")
_WORD_AFTER: Final = re.compile(r"^\W*([^\W\d_]+)")


def _ages(text: str) -> Iterator[Found]:
    # Each rule runs only if its keyword is in the text (as deduce's `pre_match_words`): most
    # reports have no age, and these patterns are tried at every position.
    lowered = text.lower()
    if "jaar" in lowered or "jarig" in lowered or "jr" in lowered:
        for match in _AGE_IN_YEARS.finditer(text):
            before = _WORD_BEFORE.search(text[max(0, match.start() - 30) : match.start()])
            after = _WORD_AFTER.search(text[match.end() : match.end() + 30])
            if (before and before.group(1).lower() in _BEFORE_A_DURATION) or (
                after and after.group(1).lower() in _AFTER_A_DURATION
            ):
                continue
            yield Found(match.start("n"), match.end("n"), "leeftijd")
    rules = (
        (_SAID_AGE, True),
        (_AGE_IN_BRACKETS, "(" in text),
        (_AGE_BIRTHDAY, "verjaardag" in lowered or "levensjaar" in lowered),
    )
    for pattern, worth_trying in rules:
        for match in pattern.finditer(text) if worth_trying else ():
            yield Found(match.start("n"), match.end("n"), "leeftijd")
    for match in _AGE_OF_PERSON.finditer(text) if "van" in lowered else ():
        yield Found(match.start("n"), match.end("n"), "leeftijd")
        for more in _NUMBER.finditer(match.group("more")):
            offset = match.start("more")
            yield Found(offset + more.start(), offset + more.end(), "leeftijd")


# ---------------------------------------------------------------- birth dates

_DAY: Final = r"(?:0?[1-9]|[12]\d|3[01])"
_DATE: Final = (
    rf"(?:{_DAY}[-/.](?:0?[1-9]|1[0-2])[-/.](?:19|20)?\d\d"
    rf"|{_DAY}(?:e|ste|de)?\s+{_MONTH}\b\.?(?:\s+(?:19|20)\d\d\b)?"
    r"|(?:19|20)\d\d)"
)
_BIRTH_DATE: Final = re.compile(rf"(?<![\w/.-]){_DATE}(?![\w/-]|\.\d)", re.IGNORECASE)
_BIRTH_WORD: Final = re.compile(
    r"\b(?:(?P<birth>geboren|geb\.|geboortedatum|geboortedag|geboortejaar)|verjaardag|jarig|jarige)",
    re.IGNORECASE,
)
_BIRTHDAY_AS_EVENT: Final = re.compile(
    r"\b(?:na|voor|sinds|tot|rond|tijdens|op|vanaf|met|van)\s+(?:\w+\s+)?(?:haar|zijn|mijn|m'n|z'n|je|jouw"
    r"|hun|de)\s+$",
    re.IGNORECASE,
)
"""`twee weken na haar verjaardag`: the birthday as a moment, so a date before it is not its date."""
_DAY_AND_MONTH: Final = re.compile(rf"^{_DAY}(?:e|ste|de)?\s", re.IGNORECASE)
_BIRTH_YEAR: Final = re.compile(
    rf"\b(?:{_SUBJECT}\s+(?:is|was|ben)|ben\s+ik|(?:is|was)\s+(?:hij|ze|zij))\s+van\s+(?P<y>(?:19|20)\d\d)\b"
    r"|\b(?P<cohort>(?:19|20)\d\d)['\u2019]?ers?\b",
    re.IGNORECASE,
)
_SENTENCE_END: Final = re.compile(r"[!?\n]|\.(?=\s|$)")
_REACH: Final = 45
"""How far (characters, within the sentence) a birth word reaches for its date: `jarig op 21 september`,
`op 18 juni, is het zijn verjaardag`."""


def _birth_dates(text: str) -> Iterator[Found]:
    for word in _BIRTH_WORD.finditer(text):
        left = max(0, word.start() - _REACH)
        ends = [m.end() for m in _SENTENCE_END.finditer(text, left, word.start())]
        left = ends[-1] if ends else left
        if not word.group("birth") and _BIRTHDAY_AS_EVENT.search(text, left, word.start()):
            left = word.start()
        stop = _SENTENCE_END.search(text, word.end(), word.end() + _REACH)
        right = stop.start() if stop else min(len(text), word.end() + _REACH)
        for date in _BIRTH_DATE.finditer(text, left, right):
            # A birthday has a day and a month; a year alone near `verjaardag` is when something was.
            if word.group("birth") or _DAY_AND_MONTH.match(date.group(0)):
                yield Found(date.start(), date.end(), "datum")
    for match in _BIRTH_YEAR.finditer(text):
        group = "y" if match.group("y") else "cohort"
        yield Found(match.start(group), match.end(group), "datum")


# ---------------------------------------------------------------- schools, clubs, workplaces

_CAP: Final = "(?>[A-Z][a-zà-ÿ'\u2019]*" + r"[a-zà-ÿ]\w*(?:-[A-Za-z]\w*)*|[A-Z]{2,5}(?:[a-z]\w*)?|'[tT])"
"""A capitalised word, an acronym, or `'t`; atomic, so a failed match does not try every split."""
_LINK: Final = r"(?:de|het|der|den|van|von|'t|da|di|la|le|du)"
_NAME: Final = rf"{_CAP}(?:\s+(?:{_LINK}\s+)*+{_CAP})*+"
"""Capitalised words joined by name particles (`Johan de Witt`); possessive: a run is taken whole,
never given back word by word (which on a long run of capitals costs quadratic time)."""
_NAME_RUN: Final = re.compile(rf"(?<![\w'-]){_NAME}(?![\w'-])")
_SCHOOL_WORDS: Final = words(
    "school basisschool gymnasium lyceum college atheneum scholengemeenschap scholengroep schoolgroep "
    "hogeschool universiteit academie roc mavo vmbo kindcentrum"
)
_ARTICLE: Final = re.compile(r"(?:De|Het|Een|'t|'T)\s+")
_SCHOOL_AFTER_PREFIX: Final = re.compile(
    rf"\b(?:basisschool|obs|cbs|rkbs|pcbs|ikc|kbs|kindcentrum|school)\s+(?P<name>(?:(?:de|het|'t)\s+)?{_NAME})",
)
_LOWER_SCHOOL: Final = re.compile(
    r"\b(?:basisschool|obs|cbs|rkbs|pcbs|ikc|kindcentrum)\s+(?P<name>(?:de|het|'t)\s+(?P<word>[a-zà-ÿ]{3,}))\b"
)
_CLUB_WORD: Final = (
    r"(?:\w*(?:club|vereniging|bedrijf)|scouting|scoutinggroep|harmonie|fanfare|koor|kerk|moskee|bakkerij"
    r"|slagerij|kapsalon|garage|restaurant|café|cafetaria|snackbar|hotel|supermarkt|voedselbank|dansschool"
    r"|sportschool|stichting|verpleeghuis|verzorgingshuis|zorgcentrum|kinderdagverblijf|gemeente|firma)"
)
_ORG_AFTER_PREFIX: Final = re.compile(rf"\b{_CLUB_WORD}\s+(?P<name>(?:(?:de|het|'t)\s+)?{_NAME})", re.UNICODE)
_CLUB_ABBREVIATION: Final = re.compile(
    rf"\b(?P<name>(?:VV|SV|RKSV|RKVV|HC|MHC|KV|CKV|HV|TC|ZV|AV|FC|SC|VVV)\s+{_NAME})"
)
_LEGAL_FORM: Final = words("BV NV VOF Holding")
_LEGAL_FORM_WITH_DOTS: Final = re.compile(r"\s+(?:B\.V\.|N\.V\.|V\.O\.F\.)")
_WORK_CUE: Final = (
    r"\b(?:werk|werkt|werkte|werkten|werken|gewerkt|werkzaam|baan|bijbaan|stage|stageplek|vrijwilliger"
    r"|vrijwilligster|vrijwilligerswerk|solliciteer|solliciteert|solliciteerde|traint|trainde|voetbalt"
    r"|hockeyt|speelt|zwemt|turnt|danst|lid|trainer|coach)\b(?:\s+[a-zà-ÿ]+){0,3}?\s+(?:bij|van|voor)\s+"
)
_WORKPLACE: Final = re.compile(rf"{_WORK_CUE}(?:de\s+|het\s+)?(?P<name>{_NAME})")
_PLACE_NOUN: Final = re.compile(
    rf"\b(?:wijk|buurt|dorp|dorpje|stad|stadje|stadsdeel|regio|plaats|plaatsje|provincie|streek)\s+(?P<name>{_NAME})"
)


def _is_school_name(run: str) -> bool:
    if run.startswith("College van"):  # a board (van Bestuur, van B&W), not a school
        return False
    words = [w for part in run.split() for w in part.split("-")]
    typed = [w for w in words if any(w.lower().endswith(kind) for kind in _SCHOOL_WORDS)]
    if not typed:
        return False
    names = [w for w in words if w.lower() not in _SCHOOL_WORDS and w.lower() not in {"de", "het", "'t"}]
    return bool(names)


def _named_runs(text: str) -> Iterator[Found]:
    """Schools and companies among the capitalised runs: a school word in the run (`Erasmus
    College`), a legal form at its end (`Bouwbedrijf De Vries BV`). Not in a shouted text, where
    every word is capitalised."""
    if shouting(text):
        return
    for run in _NAME_RUN.finditer(text):
        start = run.start()
        article = _ARTICLE.match(run.group(0))
        if article and opens_sentence(text, run.start()):
            start += article.end()
        if _is_school_name(text[start : run.end()]):
            yield Found(start, run.end(), "school")
        elif run.group(0).rsplit(None, 1)[-1] in _LEGAL_FORM and " " in run.group(0):
            yield Found(start, run.end(), "organisatie")
        elif dotted := _LEGAL_FORM_WITH_DOTS.match(text, run.end()):
            yield Found(start, dotted.end(), "organisatie")


def _schools_and_clubs(text: str, is_common: IsCommon) -> Iterator[Found]:
    yield from _named_runs(text)
    for pattern, tag in ((_SCHOOL_AFTER_PREFIX, "school"), (_ORG_AFTER_PREFIX, "organisatie")):
        for match in pattern.finditer(text):
            yield Found(match.start("name"), match.end("name"), tag)
    for pattern in (_CLUB_ABBREVIATION, _WORKPLACE):
        for match in pattern.finditer(text):
            yield Found(match.start("name"), match.end("name"), "organisatie")
    for match in _PLACE_NOUN.finditer(text):
        yield Found(match.start("name"), match.end("name"), "locatie")
    for match in _LOWER_SCHOOL.finditer(text):
        if not is_common(match.group("word")):
            yield Found(match.start("name"), match.end("name"), "school")


# ---------------------------------------------------------------- house numbers

_STREET_SUFFIX: Final = (
    r"(?:straat|laan|weg|plein|gracht|singel|kade|dijk|dreef|steeg|hof|park|markt|baan|pad|wal|haven"
    r"|plantsoen|boulevard|allee|dam|burgwal|straatweg|ring|erf|hoven|veld)"
)
_HOUSE_NUMBER: Final = re.compile(
    rf"\b(?P<street>[A-Z][a-zà-ÿ]+{_STREET_SUFFIX})\s+(?:nummer|nr\.?|no\.?)\s*\d{{1,5}}\s?[a-zA-Z]?\b"
    r"|\bhuisnummer\s*:?\s*(?P<n>\d{1,5}(?:\s?[a-zA-Z]\b)?)"
    r"|\b(?:woon|woont|wonen|woonde|woonden)\b[^.!?\n]{0,40}?\bop\s+nummer\s+(?P<m>\d{1,5}[a-zA-Z]?)\b",
)


def _house_numbers(text: str) -> Iterator[Found]:
    for match in _HOUSE_NUMBER.finditer(text):
        group = "street" if match.group("street") else "n" if match.group("n") else "m"
        end = match.end() if group == "street" else match.end(group)
        yield Found(match.start(group), end, "locatie")


def quasi_spans(text: str, is_common: IsCommon) -> list[Found]:
    """The quasi-identifiers in `text` (already read as plain text by `pre_scrub`), as spans."""
    return [
        *_ages(text),
        *_birth_dates(text),
        *_schools_and_clubs(text, is_common),
        *_house_numbers(text),
    ]
