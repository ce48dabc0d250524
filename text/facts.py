"""Fact normalisation for German administrative text: the one place that decides when two strings
state the same fact. Used by the eval metrics (key facts, contradicted numbers) and by the answer
verifier (numbers, dates, § references and negations of a sentence against its source).

`normalize` maps spelling variants onto one form, so that a plain substring test compares facts:
"vierzehn Tage" → "14 tage", "1.800 €" → "1800 euro", "15 %" / "15 v. H." → "15 prozent",
"§§ 6 und 7" → "§ 6 und § 7", "Absatz 2" → "abs. 2", soft hyphens, Unicode spaces, Markdown
escapes and line-end hyphenation removed, case folded (so "ß" becomes "ss").

`quantities` finds the numbers, amounts, dates, times, durations, percentages and § references of a
text with a canonical value each ("27,60 €" and "27,60 Euro" → amount "27,60 euro"; "20 Cent" →
"0,20 euro"; "1. Januar 2025" and "01.01.2025" → date "2025-01-01"; "zwei Wochen" → duration
"2 woche"; "14 Uhr" → time "14:00"; "Teil II" → number "teil ii"). Quantity.raw is the matched text
in normalised form (offsets into the original text are not kept: normalisation changes lengths).
`supported` / `unsupported_quantities` decide whether a source states a quantity.

Pure Python, regular expressions only; `normalize` is cached, so repeated source texts cost nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

__all__ = [
    "Quantity",
    "contains_fact",
    "negated",
    "negations",
    "normalize",
    "quantities",
    "supported",
    "unsupported_quantities",
]

# --- characters --------------------------------------------------------------------------------

_SPACES = (
    "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000\t\r\f\v"
)
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_CHAR_TABLE = (
    {ord(c): " " for c in _SPACES}
    | {ord(c): None for c in _INVISIBLE}
    | {ord(c): "-" for c in _DASHES}
    | {ord(c): "'" for c in "\u2018\u2019\u201a\u02bc\u2032"}
    | {ord(c): '"' for c in "\u201c\u201d\u201e\u00ab\u00bb\u2033"}
)
_ESCAPE = re.compile(r"\\([!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])")  # CommonMark escapable punctuation
_EMPHASIS = re.compile(r"\*\*|__")
# Line-end hyphenation: a lower-case continuation is one word broken by layout ("Verwal-\ntung"),
# an upper-case one is a compound that keeps its hyphen ("Straßenverkehrs-\nZulassungs-Ordnung").
_HYPHEN_LOWER = re.compile(r"(?<=\w)-[ ]*\n\s*(?=[a-zäöüß])")
_HYPHEN_UPPER = re.compile(r"(?<=\w)-[ ]*\n\s*(?=\w)")
_WS = re.compile(r"\s+")

# --- numbers, currencies, units ------------------------------------------------------------------

# "1.800", "1 800", "1'800" (also "1.800,50"); not "3.2", "12.03.2024" or "1.100.3".
_THOUSANDS = re.compile(r"(?<![\d.,'])\d{1,3}(?:([. '])\d{3})(?:\1\d{3})*(?!\d|[.']\d)")
_CURRENCY_PREFIX = re.compile(r"(?<![\d,] )(?<![\d,])(?:€|\beur\b)\s?(\d[\d.,' ]*\d|\d)")
_EURO_SIGN = re.compile(r"\s?€|\beur\b")
_DASH_AMOUNT = re.compile(r"(\d),-(?!\d)")  # "27,- €"
_PERCENT_SIGN = re.compile(r"\s?%")
_PERCENT_WORDS = re.compile(r"\b(?:vom hundert|v\. ?h\.)(?!\w)")
_SECTIONS_DOUBLE = re.compile(r"§§\s?(\d+[a-z]?(?:\s?(?:,|und|oder|bis|-)\s?\d+[a-z]?\b)*)")
_SECTION_GLUE = re.compile(r"§(?=\d)")
_LEGAL_WORDS = re.compile(r"\b(absatz|abs\.|artikel|art\.|nummer|nr\.)\s?(?=\d)")
_LEGAL_CANON = {
    "absatz": "abs.",
    "abs.": "abs.",
    "artikel": "art.",
    "art.": "art.",
    "nummer": "nr.",
    "nr.": "nr.",
}
# "8 bis 12 Uhr" / "8-12 Uhr" states two clock times: "8 uhr bis 12 uhr".
_TIME_RANGE = re.compile(r"(?<![\d.,:])(\d{1,2}(?::\d{2})?) ?(bis|-) ?(\d{1,2}(?::\d{2})?) uhr\b")
_UNIT_ABBREV = re.compile(r"(\d) (std\.|min\.|ct\.?|tsd\.)(?!\w)")
_UNIT_ABBREV_CANON = {"std.": "stunden", "min.": "minuten", "ct": "cent", "ct.": "cent", "tsd.": "tsd."}

_UNIT_WORD = (
    r"(?:(?:arbeits|kalender|werk|lebens)?(?:tag|woche|monat|jahr|stunde|minute|sekunde)"
    r"(?:e|en|es|s|n|ns)?|euro|cent|prozent)\b"
)
# "ein"/"eine"/… is an article almost everywhere; only before a unit word does it count as 1.
_ARTICLE_ONE = re.compile(rf"\bein(?:e|en|em|er|es)? (?={_UNIT_WORD})")

_ONES = {"eins": 1, "zwei": 2, "drei": 3, "vier": 4, "fünf": 5, "sechs": 6, "sieben": 7, "acht": 8, "neun": 9}
_TEENS = {"zehn": 10, "elf": 11, "zwölf": 12, "dreizehn": 13, "vierzehn": 14, "fünfzehn": 15,
          "sechzehn": 16, "siebzehn": 17, "achtzehn": 18, "neunzehn": 19}  # fmt: skip
_TENS = {"zwanzig": 20, "dreissig": 30, "vierzig": 40, "fünfzig": 50, "sechzig": 60, "siebzig": 70,
         "achtzig": 80, "neunzig": 90}  # fmt: skip
_COMPOUND_ONES = {"ein": 1} | {k: v for k, v in _ONES.items() if k != "eins"}
_NUMBER_WORD = re.compile(
    r"\b(?:ein|zwei|drei|vier|fünf|sech|sieb|acht|neun|zehn|elf|zwölf|zwanzig|hundert|tausend)[a-zäöüß]*\b"
)
_ACHT_IDIOM = re.compile(r" (?:geben|gegeben|nehmen|genommen|lassen|gelassen|zu (?:geben|nehmen|lassen))\b")


def _below_100(word: str) -> int | None:
    if word in _ONES:
        return _ONES[word]
    if word in _TEENS:
        return _TEENS[word]
    if word in _TENS:
        return _TENS[word]
    ones, sep, tens = word.partition("und")
    if sep and ones in _COMPOUND_ONES and tens in _TENS:
        return _COMPOUND_ONES[ones] + _TENS[tens]
    return None


def _below_1000(word: str) -> int | None:
    head, sep, tail = word.partition("hundert")
    if not sep:
        return _below_100(word)
    factor = 1 if head in ("", "ein") else _COMPOUND_ONES.get(head)
    rest = 0 if tail == "" else _below_100(tail.removeprefix("und"))
    return None if factor is None or rest is None else factor * 100 + rest


def number_word_value(word: str) -> int | None:
    """'vierzehn' → 14, 'einundzwanzig' → 21, 'zweihundertfünfzig' → 250; None if not a numeral.

    Expects a case-folded word ("dreissig", not "dreißig"); the articles "ein"/"eine" are not numerals.
    """
    head, sep, tail = word.partition("tausend")
    if not sep:
        return _below_1000(word)
    factor = 1 if head in ("", "ein") else _below_1000(head)
    rest = 0 if tail == "" else _below_1000(tail.removeprefix("und"))
    return None if factor is None or rest is None else factor * 1000 + rest


def _number_word(m: re.Match[str]) -> str:
    word = m.group(0)
    value = number_word_value(word)
    if value is None:
        return word
    if word == "acht":  # "außer Acht lassen", "Acht geben", "in Acht nehmen"
        before, after = m.string[: m.start()], m.string[m.end() :]
        if before.endswith("ausser ") or _ACHT_IDIOM.match(after):
            return word
    return str(value)


@lru_cache(maxsize=8192)
def normalize(text: str) -> str:
    """Canonical form of a text for fact comparison (see the module docstring)."""
    t = unicodedata.normalize("NFC", text).translate(_CHAR_TABLE)
    t = _ESCAPE.sub(r"\1", t)
    t = _EMPHASIS.sub("", t)
    t = _HYPHEN_LOWER.sub("", t)
    t = _HYPHEN_UPPER.sub("-", t)
    t = _WS.sub(" ", t).strip().casefold()
    # Numbers: thousands separators away (after the currency prefix is moved behind the number).
    t = _CURRENCY_PREFIX.sub(lambda m: f"{m.group(1).strip()} euro", t)
    t = _THOUSANDS.sub(lambda m: re.sub(r"[. ']", "", m.group(0)), t)
    t = _EURO_SIGN.sub(" euro", t)
    t = _DASH_AMOUNT.sub(r"\1", t)
    t = _PERCENT_SIGN.sub(" prozent", t)
    t = _PERCENT_WORDS.sub("prozent", t)  # before number words: "hundert" would become "100"
    t = _ARTICLE_ONE.sub("1 ", t)
    t = _NUMBER_WORD.sub(_number_word, t)
    t = _UNIT_ABBREV.sub(lambda m: f"{m.group(1)} {_UNIT_ABBREV_CANON[m.group(2)]}", t)
    t = _TIME_RANGE.sub(
        lambda m: f"{m.group(1)} uhr {'bis' if m.group(2) == 'bis' else '-'} {m.group(3)} uhr", t
    )
    # Legal references: "§§ 6 und 7" → "§ 6 und § 7", "§6" → "§ 6", "Absatz 2" → "abs. 2".
    t = _SECTIONS_DOUBLE.sub(lambda m: re.sub(r"(\d+[a-z]?)\b", r"§ \1", m.group(1)), t)
    t = _SECTION_GLUE.sub("§ ", t)
    t = _LEGAL_WORDS.sub(lambda m: _LEGAL_CANON[m.group(1)] + " ", t)
    return _WS.sub(" ", t).strip()


# A second, coarser form used only as a fallback by contains_fact (both sides): units after a
# number lose their inflection ("eines Monats" = "einem Monat"), whole-euro amounts lose ",00",
# and "14 Uhr" becomes "14:00 uhr".
_UNIT_INFLECTION = re.compile(
    r"(?<=\d )((?:arbeits|kalender|werk|lebens)?(?:tag|woche|monat|jahr|stunde|minute|sekunde))"
    r"(?:e|en|es|s|n|ns)?\b"
)
_WHOLE_EURO = re.compile(r"(\d),00? euro\b")
_FULL_HOUR = re.compile(r"(?<![\d:.,])(\d{1,2}) uhr\b")


def _coarse(normalized: str) -> str:
    t = _UNIT_INFLECTION.sub(r"\1", normalized)
    t = _WHOLE_EURO.sub(r"\1 euro", t)
    return _FULL_HOUR.sub(r"\1:00 uhr", t)


_ROMAN_TAIL = re.compile(r"(?:^| )(?:i{1,3}|iv|vi{0,3}|ix|xi{0,2})$")
_ROMAN_CHARS = frozenset("ivx")


def _digit_edge(text: str, i: int, step: int) -> bool:
    """Does position i (the neighbour of a match) continue a number? ("3" in "30", "27,60", "6a")"""
    if not 0 <= i < len(text):
        return False
    c = text[i]
    if c.isalnum():  # "3" in "30", "§ 6" in "§ 6a"
        return True
    j = i + step
    return c in ".," and 0 <= j < len(text) and text[j].isdigit()


def _find(text: str, fact: str) -> bool:
    """Substring search; a fact that begins or ends with a number (or ends with a Roman numeral,
    "Teil I" vs "Teil II") must not be part of a longer one. Word edges are otherwise free, so
    "Original" is found in "Originale" (German inflection)."""
    start_digit, end_digit = fact[0].isdigit(), fact[-1].isdigit()
    end_roman = bool(_ROMAN_TAIL.search(fact))
    pos = text.find(fact)
    while pos >= 0:
        end = pos + len(fact)
        ok = not (start_digit and _digit_edge(text, pos - 1, -1))
        ok = ok and not (end_digit and _digit_edge(text, end, 1))
        ok = ok and not (end_roman and end < len(text) and (text[end].isalnum()))
        if ok:
            return True
        pos = text.find(fact, pos + 1)
    return False


def contains_fact(text: str, fact: str) -> bool:
    """Is the fact stated in the text, up to normalisation? ("14 Tage" in "innerhalb von vierzehn
    Tagen": yes; "3" in "30 Tage": no). A fact that is one quantity alone also matches an equal one
    in another form ("zwei Wochen" = "14 Tage", "31. März" = "31.03.")."""
    f = normalize(fact)
    if not f:
        return False
    t = normalize(text)
    if _find(t, f) or _find(_coarse(t), _coarse(f)):
        return True
    alone = quantities(fact)
    return len(alone) == 1 and alone[0].raw == f and supported(alone[0], quantities(text))


# --- quantities ----------------------------------------------------------------------------------

KINDS = ("number", "amount", "date", "time", "duration", "percent", "section")


@dataclass(frozen=True)
class Quantity:
    kind: str  # one of KINDS
    value: str  # canonical value: "27,60 euro", "2025-01-01", "14 tag", "§ 6 abs. 2", "1800"
    raw: str  # the matched text, in normalised form

    @property
    def numerals(self) -> tuple[str, ...]:
        """The bare numbers inside the value, canonical ("§ 6 abs. 2" → ("6", "2"), "8,70 euro" → ("8,7",),
        "2025-01-05" → ("2025", "1", "5"))."""
        return tuple(_plain(_decimal(n)) for n in re.findall(r"\d+(?:,\d+)?", self.value))


_MONTHS = {"januar": 1, "jänner": 1, "februar": 2, "märz": 3, "april": 4, "mai": 5, "juni": 6, "juli": 7,
           "august": 8, "september": 9, "oktober": 10, "november": 11, "dezember": 12}  # fmt: skip
_MONTH_RE = "|".join(_MONTHS)
_NUM = r"\d+(?:,\d+)?"
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MONTH = r"(?:0?[1-9]|1[0-2])"
# Every quantity starts with a digit, "§", "art. ", "teil ", "sgb " or a month name: the lookahead
# rejects all other positions at once (25 times faster than trying each alternative there).
_QUANTITY_START = r"(?=[\d§]|\b(?:art\. |teil |sgb |jan|jän|feb|mär|apr|mai|jun|jul|aug|sep|okt|nov|dez))"
_QUANTITY = re.compile(
    _QUANTITY_START
    + "(?:"
    + "|".join(
        [
            r"(?P<section>(?:§|art\.) \d+[a-z]?\b(?: abs\. \d+[a-z]?\b)?(?: satz \d+\b)?(?: nr\. \d+[a-z]?\b)?)",
            r"(?P<time>(?<![\d.,])(?P<th>[01]?\d|2[0-4])(?::(?P<tm>[0-5]\d)(?: uhr\b)?|\.(?P<tm2>[0-5]\d) uhr\b| uhr\b))",
            rf"(?P<date>(?<![\d.,])(?P<d>{_DAY})\.(?P<m>{_MONTH})\.(?P<y>\d{{4}}|\d{{2}}(?!\d))?)",
            rf"(?P<wdate>(?<![\d.,])(?P<wd>{_DAY})\. ?(?P<wm>{_MONTH_RE})\b(?: (?P<wy>\d{{4}})\b)?)",
            rf"(?P<mdate>\b(?P<mm>{_MONTH_RE}) (?P<my>\d{{4}})\b)",
            rf"(?P<amount>(?<![\d.,])(?P<an>{_NUM}) (?:(?P<mult>mio\.|millionen|mrd\.|milliarden|tsd\.) )?(?P<cur>euro|cent)\b)",
            rf"(?P<percent>(?<![\d.,])(?P<pn>{_NUM}) prozent(?:punkte?n?)?\b)",
            rf"(?P<duration>(?<![\d.,])(?P<dn>{_NUM}) (?P<du>(?:arbeits|kalender|werk|lebens)?"
            r"(?:tag|woche|monat|jahr|stunde|minute|sekunde))(?:e|en|es|s|n|ns)?\b)",
            r"(?P<part>\b(?:teil|sgb) (?:i{1,3}|iv|v|vi{1,3}|ix|x|xi{1,2})\b(?!-))",
            r"(?P<number>(?<![\d.,])\d+(?:[.,]\d+)*)",
        ]
    )
    + ")"
)
# Not facts: citation markers "[1]" and list enumerators at the start of a line ("1. ", "2) ").
_CITATION = re.compile(r"\[\d+(?:\s*[,;]\s*\d+)*\]")
_BULLET = re.compile(r"^\s*[-*•]\s+", re.M)
_ENUMERATOR = re.compile(r"^\s*\d{1,2}[.)]\s+", re.M)
# A list item quoted on its own ("„4. wer Angehöriger …“", "… 1. als Ehegatte …"): an enumerator
# after an opening quote or an ellipsis, followed by a lower-case word, is no fact ("14. Lebensmonat" is).
_QUOTED_ITEM = re.compile(r"(?:^|(?<=[„\"»…]))\s*\d{1,2}[.)]\s+(?=[a-zäöüß])", re.M)
_MULTIPLIER = {"tsd.": 1000, "mio.": 10**6, "millionen": 10**6, "mrd.": 10**9, "milliarden": 10**9}


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the patterns only pass digits
        return Decimal(0)


def _plain(value: Decimal) -> str:
    """1.50 → "1,5", 14.0 → "14" (German decimal comma, no trailing zeros)."""
    text = format(value.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


def _euro(value: Decimal) -> str:
    """Amounts: whole euros without decimals, otherwise two ("27,5" → "27,50")."""
    if value == value.to_integral_value():
        return f"{int(value)} euro"
    return format(value.quantize(Decimal("0.01")), "f").replace(".", ",") + " euro"


def _year(text: str | None) -> str:
    if not text:
        return "-"
    return text if len(text) == 4 else ("20" if int(text) < 70 else "19") + text


def _quantity(m: re.Match[str]) -> Quantity:
    raw = m.group(0)
    g = m.groupdict()
    if g["section"]:
        return Quantity("section", raw, raw)
    if g["time"]:
        minutes = g["tm"] or g["tm2"] or "00"
        return Quantity("time", f"{int(g['th'])}:{minutes}", raw)
    if g["date"]:
        return Quantity("date", f"{_year(g['y'])}-{int(g['m']):02d}-{int(g['d']):02d}", raw)
    if g["wdate"]:
        return Quantity("date", f"{_year(g['wy'])}-{_MONTHS[g['wm']]:02d}-{int(g['wd']):02d}", raw)
    if g["mdate"]:
        return Quantity("date", f"{g['my']}-{_MONTHS[g['mm']]:02d}", raw)
    if g["amount"]:
        value = _decimal(g["an"]) * _MULTIPLIER.get(g["mult"] or "", 1)
        return Quantity("amount", _euro(value / 100 if g["cur"] == "cent" else value), raw)
    if g["percent"]:
        return Quantity("percent", f"{_plain(_decimal(g['pn']))} prozent", raw)
    if g["duration"]:
        return Quantity("duration", f"{_plain(_decimal(g['dn']))} {g['du']}", raw)
    if g["part"]:  # "Teil I" vs "Teil II" of a document, "SGB II" vs "SGB III": a number in Roman
        return Quantity("number", raw, raw)
    value = raw if "." in raw else _plain(_decimal(raw))  # "36.21" stays, "6,50" → "6,5"
    return Quantity("number", value, raw)


def quantities(text: str) -> list[Quantity]:
    """Numbers, amounts, dates, times, durations, percentages and § references, in text order.

    Citation markers ("[1]") and list enumerators at line starts are skipped. Kinds: "number",
    "amount", "date", "time" (clock time, "14:00"), "duration", "percent", "section".
    """
    return list(_quantities(text))


@lru_cache(maxsize=8192)
def _quantities(text: str) -> tuple[Quantity, ...]:
    text = _QUOTED_ITEM.sub("", _BULLET.sub("", _CITATION.sub(" ", text)))
    # "1. " at line starts is a list only where two lines have one ("31. März" alone is a date)
    if len(_ENUMERATOR.findall(text)) >= 2:
        text = _ENUMERATOR.sub("", text)
    return tuple(_quantity(m) for m in _QUANTITY.finditer(normalize(text)))


# Durations that convert exactly: weeks to days, years to months, hours to minutes.
_DURATION_BASE = {
    "woche": ("tag", 7),
    "kalendertag": ("tag", 1),
    "jahr": ("monat", 12),
    "stunde": ("minute", 60),
}
_SECTION_PARTS = re.compile(r"^((?:§|art\.) \d+[a-z]?)(.*)$")


def _duration_key(value: str) -> tuple[str, Decimal]:
    amount, unit = value.split(" ", 1)
    base, factor = _DURATION_BASE.get(unit, (unit, 1))
    return base, _decimal(amount) * factor


def _date_within(claimed: str, stated: str) -> bool:
    """A date with less detail is stated by a fuller one: "31. März" (--03-31) and "März 2025"
    (2025-03) by "31. März 2025" (2025-03-31); not the other way round."""
    if claimed.startswith("--"):
        return stated.endswith(claimed[1:])
    return len(claimed) == 7 and stated.startswith(claimed + "-")


def _section_supported(q: Quantity, found: list[Quantity]) -> bool:
    """ "§ 17" is stated by "§ 17 abs. 1"; "§ 17 abs. 1" by a source that names § 17 with no Absatz
    (a law's own heading, its paragraphs numbered "(1)") but not by one naming another Absatz."""
    m = _SECTION_PARTS.match(q.value)
    if not m:
        return False
    base, detail = m.groups()
    same = [s.value for s in found if s.kind == "section" and s.value.split(" ")[:2] == base.split(" ")]
    if not same:
        return False
    return not detail.strip() or any(v.startswith(q.value) for v in same) or all(v == base for v in same)


def supported(q: Quantity, found: Iterable[Quantity], loose: bool = False) -> bool:
    """Is quantity q stated by one of `found` (e.g. the quantities of a source)?

    Same kind and value always counts; a bare number also counts as stated by an amount, duration,
    date … with that number ("14" by "14 Euro"); durations count in exact conversions ("2 Wochen" =
    "14 Tage", "1 Jahr" = "12 Monate", not "1 Monat" = "30 Tage"); a § reference by the same § with
    the same or no Absatz; a date without year or day by the full date. With `loose`, an amount,
    duration or percentage is also stated by the bare number (a table cell "14" under the header
    "Euro") — weaker, but no false alarms on tables.
    """
    found = list(found)
    if q.kind == "section":
        return _section_supported(q, found)
    for s in found:
        if s.kind == q.kind and s.value == q.value:
            return True
        if q.kind == "number" and q.value in s.numerals:
            return True
        if q.kind == s.kind == "duration" and _duration_key(q.value) == _duration_key(s.value):
            return True
        if q.kind == s.kind == "date" and _date_within(q.value, s.value):
            return True
        if (
            loose
            and s.kind == "number"
            and q.kind in ("amount", "duration", "percent")
            and s.numerals == q.numerals
        ):
            return True
    return False


def unsupported_quantities(
    text: str, sources: Iterable[str], question: str = "", loose: bool = False
) -> list[Quantity]:
    """The quantities of `text` that none of `sources` states; those of the question itself are
    allowed (an answer may repeat "2003" from "ein 2003 ausgestellter Führerschein")."""
    found = [q for s in sources for q in quantities(s)] + quantities(question)
    return [q for q in quantities(text) if not supported(q, found, loose)]


# --- negation ------------------------------------------------------------------------------------

# Grammatical negation only: "nicht", "nichts", "kein…" (incl. "keinesfalls", "keineswegs"), "nie",
# "niemals", "niemand", "nirgends"/"nirgendwo", "weder". Not counted: "ohne" (mostly "ohne Antrag",
# not a negated claim), "nicht nur" (… sondern auch: affirmative), negating prefixes ("unzulässig")
# and lexical negation ("ausgeschlossen", "entfällt") — compare those as words.
_NEGATION = re.compile(
    r"\b(nicht(?! nur\b)|nichts|kein(?:e|en|em|er|es|esfalls|eswegs)?|nie|niemals|niemand(?:e[mn])?|"
    r"nirgends|nirgendwo|weder)\b"
)


def _negation_canon(word: str) -> str:
    if word.startswith("kein"):
        return "kein"
    if word.startswith("niemand"):
        return "niemand"
    if word.startswith("nirgend"):
        return "nirgends"
    return word


def negations(text: str) -> set[str]:
    """Negation markers in the text, canonical ("keine"/"keinesfalls" → "kein")."""
    return {_negation_canon(m.group(1)) for m in _NEGATION.finditer(normalize(text))}


def negated(text: str) -> bool:
    return bool(_NEGATION.search(normalize(text)))
