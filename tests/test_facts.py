"""Fact normalisation: the same fact in different spellings compares equal, different facts do not."""

from __future__ import annotations

import pytest

from text.facts import (
    Quantity,
    contains_fact,
    negated,
    negations,
    normalize,
    number_word_value,
    quantities,
    supported,
    unsupported_quantities,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Vierzehn Tage", "14 tage"),
        ("drei Monate", "3 monate"),
        ("zwölf Monatsbeträge", "12 monatsbeträge"),
        ("zwanzig Euro", "20 euro"),
        ("einundzwanzig Jahre", "21 jahre"),
        ("dreißig Tage", "30 tage"),
        ("zweihundertfünfzig", "250"),
        ("eine Woche", "1 woche"),
        ("innerhalb eines Monats", "innerhalb 1 monats"),
        ("ein Antrag und eine Frist", "ein antrag und eine frist"),  # articles stay articles
        ("in acht Wochen", "in 8 wochen"),
        ("außer Acht lassen", "ausser acht lassen"),
        ("Einsatz", "einsatz"),
        ("1.800 Euro", "1800 euro"),
        ("1 800 Euro", "1800 euro"),
        ("1\u202f800\u00a0Euro", "1800 euro"),
        ("1’800 €", "1800 euro"),
        ("1.800,50 €", "1800,50 euro"),
        ("Die Gebühr beträgt 27,60 €", "die gebühr beträgt 27,60 euro"),
        ("€ 27,60", "27,60 euro"),
        ("EUR 5", "5 euro"),
        ("27,– €", "27 euro"),
        ("15 %", "15 prozent"),
        ("15%", "15 prozent"),
        ("50 vom Hundert", "50 prozent"),
        ("fünfzig v. H.", "50 prozent"),
        ("§§ 6 und 7", "§ 6 und § 7"),
        ("§6 Absatz 2", "§ 6 abs. 2"),
        ("Artikel 15 DSGVO", "art. 15 dsgvo"),
        ("Verwal-\ntung", "verwaltung"),
        ("Straßenverkehrs-\nZulassungs-Ordnung", "strassenverkehrs-zulassungs-ordnung"),
        ("14\\. Lebens\u00admonat", "14. lebensmonat"),
        ("**14 Euro**  pro\n\nTag", "14 euro pro tag"),
        ("12.03.2024", "12.03.2024"),
        ("3.2 Öffnen", "3.2 öffnen"),
        ("8 Std.", "8 stunden"),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_number_words() -> None:
    assert [number_word_value(w) for w in ("eins", "sechzehn", "siebzig", "hundert", "zehntausend")] == [
        1, 16, 70, 100, 10000,
    ]  # fmt: skip
    assert number_word_value("ein") is None  # the article
    assert number_word_value("hunderte") is None
    assert number_word_value("achtung") is None


@pytest.mark.parametrize(
    ("text", "fact"),
    [
        ("Die Frist beträgt 14 Tage.", "vierzehn Tage"),
        ("innerhalb von vierzehn Tagen", "14 Tage"),
        ("Der Höchstbetrag liegt bei 1 800 Euro.", "1.800 Euro"),
        ("Der Höchstbetrag liegt bei 1.800 Euro.", "1 800 Euro"),
        ("Die Gebühr beträgt 27,60 €", "27,60 Euro"),
        ("Die Gebühr beträgt EUR 27,60.", "27,60 €"),
        ("in einem Monat", "eines Monats"),
        ("Sie kostet 6,00 €.", "6 Euro"),
        ("Sie kostet 6,00 €.", "6,00"),
        ("bis 14 Uhr", "14:00"),
        ("nach § 6 Absatz 2", "§ 6 Abs. 2"),
        ("Teil I.", "Teil I"),
        ("die Originale", "Original"),
        ("fünfzig vom Hundert", "50 %"),
        ("Zulassungs-\nstelle", "Zulassungsstelle"),
        ("innerhalb von 14 Tagen", "zwei Wochen"),  # one quantity alone: equal in another form
        ("bis zum 31.03.", "31. März"),
    ],
)
def test_contains_fact(text: str, fact: str) -> None:
    assert contains_fact(text, fact)


@pytest.mark.parametrize(
    ("text", "fact"),
    [
        ("30 Tage", "3"),
        ("innerhalb von 30 Tagen", "3 Tage"),
        ("Die Gebühr beträgt 27,60 Euro", "27 Euro"),
        ("Die Gebühr beträgt 127,60 Euro", "27,60 Euro"),
        ("drei Jahre", "drei Monate"),
        ("Zulassungsbescheinigung Teil II", "Zulassungsbescheinigung Teil I"),
        ("§ 6a Sonderfall", "§ 6"),
        ("§ 60", "§ 6"),
        ("Sie kostet 6,00 €.", "6,50 Euro"),
        ("", "14 Tage"),
        ("innerhalb von 15 Tagen", "zwei Wochen"),
        ("am 30.03.", "31. März"),
        ("14 Tage Frist", "Frist von zwei Wochen"),  # not a quantity alone: words must match
    ],
)
def test_contains_fact_rejects(text: str, fact: str) -> None:
    assert not contains_fact(text, fact)


def test_empty_fact_is_never_contained() -> None:
    assert not contains_fact("irgendein Text", "  \u00ad ")


def _kv(text: str) -> list[tuple[str, str]]:
    return [(q.kind, q.value) for q in quantities(text)]


def test_quantities_kinds_and_canonical_values() -> None:
    text = (
        "Die Gebühr beträgt 27,60 € ab 1. Januar 2025, spätestens am 12.03.2024 bis 14:00 Uhr, "
        "für zwei Wochen, 20 Cent je Kilometer, 15 % nach § 6 Abs. 2 FZV und Art. 6 DSGVO [1], "
        "Aktenzeichen 36.21-0457/2024, 1,5 Mio. Euro, zum Januar 2026, zehn Arbeitstage, um 9.30 Uhr."
    )
    assert _kv(text) == [
        ("amount", "27,60 euro"),
        ("date", "2025-01-01"),
        ("date", "2024-03-12"),
        ("time", "14:00"),
        ("duration", "2 woche"),
        ("amount", "0,20 euro"),
        ("percent", "15 prozent"),
        ("section", "§ 6 abs. 2"),
        ("section", "art. 6"),
        ("number", "36.21"),
        ("number", "457"),
        ("number", "2024"),
        ("amount", "1500000 euro"),
        ("date", "2026-01"),
        ("duration", "10 arbeitstag"),
        ("time", "9:30"),
    ]


def test_quantities_same_fact_same_value() -> None:
    assert _kv("vierzehn Tage") == _kv("14 Tagen") == [("duration", "14 tag")]
    assert _kv("1.800 €") == _kv("1 800 Euro") == _kv("EUR 1800,00") == [("amount", "1800 euro")]
    assert _kv("0,20 Euro") == _kv("20 Cent")
    assert _kv("am 01.01.2025") == _kv("am 1. Januar 2025")
    assert _kv("drei Monate") != _kv("drei Jahre")
    assert _kv("27,5 €") == [("amount", "27,50 euro")]


def test_quantities_skip_citations_and_list_enumerators() -> None:
    answer = "Sie brauchen:\n1. den Antrag [1]\n2) den Ausweis [2, 3]\n- 8,70 € Gebühr"
    assert _kv(answer) == [("amount", "8,70 euro")]
    assert quantities("Seite 2")[0] == Quantity("number", "2", "2")
    # a single "31. März" or "14. Lebensmonat" at the start is a date / an ordinal, not a list
    assert _kv("31. März") == [("date", "--03-31")]
    assert _kv("14. Lebensmonat") == [("number", "14")]
    # items quoted from a § list, alone or after an ellipsis, keep no enumerator either
    assert _kv("„4. wer Angehöriger ist;“ [1]\n„5. wer beschäftigt ist“ [1]") == []
    assert _kv("Haushaltsmitglied ist auch, wer … 1. als Ehegatte … 3 Monate") == [("duration", "3 monat")]


def test_supported_and_unsupported_quantities() -> None:
    source = "Die Gebühr beträgt 27,60 Euro. Die Frist beträgt drei Monate ab dem 1. März 2025."
    assert unsupported_quantities("Die Gebühr kostet 27,60 € [1].", [source]) == []
    assert [q.value for q in unsupported_quantities("Die Gebühr kostet 99 Euro [1].", [source])] == [
        "99 euro"
    ]
    assert [q.value for q in unsupported_quantities("Sie gilt drei Jahre.", [source])] == ["3 jahr"]
    assert unsupported_quantities("Ab April 2025 gilt eine Frist von 3 Monaten.", [source]) == [
        Quantity("date", "2025-04", "april 2025")
    ]
    # A bare number is stated by an amount/date with it; the question's own numbers are allowed.
    assert unsupported_quantities("Es sind 27,60, ab 2025.", [source]) == []
    assert (
        unsupported_quantities("Für 2003 gilt: 3 Monate.", [source], question="Führerschein von 2003?") == []
    )
    # Tables: "Gebühr (Euro) | 8,70" states the amount only loosely.
    table = "Leistung | Gebühr (Euro)\nAbmeldung | 8,70"
    q = quantities("Die Abmeldung kostet 8,70 €.")[0]
    assert not supported(q, quantities(table))
    assert supported(q, quantities(table), loose=True)
    assert not supported(quantities("9,70 €")[0], quantities(table), loose=True)


def test_negations() -> None:
    assert negations("Es fällt keine Gebühr an.") == {"kein"}
    assert negations("Die Gebühr beträgt nicht 27,60 Euro.") == {"nicht"}
    assert negations("Keinesfalls anschließen, niemals, weder hier noch dort, nichts, niemand") == {
        "kein", "niemals", "weder", "nichts", "niemand",
    }  # fmt: skip
    assert negated("Das Original wird NICHT vernichtet.")
    assert not negated("Nicht nur Beschäftigte, sondern auch Gäste.")
    assert not negated("Die Gebühr beträgt 27,60 Euro, ohne Zuschlag.")  # "ohne" does not count
    assert not negated("Das Knie, die Kniebeuge.")


def test_paraphrases_the_verifier_must_accept_or_reject() -> None:
    source = (
        "§ 17 Anmeldung (1) Wer eine Wohnung bezieht, muss sich innerhalb von zwei Wochen anmelden. "
        "Die Meldebehörde ist von 8 bis 12 Uhr geöffnet. Vorzulegen ist die Zulassungsbescheinigung "
        "Teil II. Siehe auch § 6 Abs. 2."
    )

    def unsupported(answer: str) -> list[str]:
        return [q.value for q in unsupported_quantities(answer, [source])]

    # accepted: exact conversions, clock-time ranges, a § with or without the Absatz the source has
    assert unsupported("Die Frist beträgt 14 Tage nach § 17 Abs. 1 BMG [1].") == []
    assert unsupported("Geöffnet von 8:00 bis 12:00 Uhr [1].") == []
    assert unsupported("Siehe § 6 und § 6 Absatz 2 [1].") == []
    assert unsupported("Die Zulassungsbescheinigung Teil II [1].") == []
    # rejected: another number of days, another Absatz, another §, another part of the document
    assert unsupported("Die Frist beträgt 15 Tage [1].") == ["15 tag"]
    assert unsupported("Nach § 6 Abs. 3 [1].") == ["§ 6 abs. 3"]
    assert unsupported("Nach § 18 BMG [1].") == ["§ 18"]
    assert unsupported("Vorzulegen ist die Zulassungsbescheinigung Teil I [1].") == ["teil i"]
    assert unsupported("Geöffnet bis 13 Uhr [1].") == ["13:00"]
    # a date with less detail is stated by the full one, not the other way round
    assert unsupported_quantities("bis 31. März", ["bis zum 31.03.2025"]) == []
    assert unsupported_quantities("ab März 2025", ["ab dem 1. März 2025"]) == []
    assert [q.value for q in unsupported_quantities("bis 31.03.2025", ["bis 31. März"])] == ["2025-03-31"]
    assert [q.value for q in unsupported_quantities("bis 30. März", ["bis zum 31.03.2025"])] == ["--03-30"]
    # a month is not 30 days, a year is 12 months
    assert unsupported_quantities("ein Monat", ["30 Tage"]) != []
    assert unsupported_quantities("ein Jahr", ["12 Monate"]) == []
