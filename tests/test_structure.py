from ingest.structure import HeadingDetector
from text.german_text import split_sentences


def test_numbered_headings_follow_the_outline_and_lists_do_not() -> None:
    d = HeadingDetector()
    assert d.detect("1 Geltungsbereich") == (1, "1 Geltungsbereich")
    assert d.detect("2 Posteingang") == (1, "2 Posteingang")
    assert d.detect("2.1 Öffnen der Post") == (2, "2.1 Öffnen der Post")
    # a numbered list inside section 2.1 is not a heading
    assert d.detect("1. Personalausweis oder Reisepass") is None
    assert d.detect("2.2 Eingangsstempel") == (2, "2.2 Eingangsstempel")
    assert d.detect("3 Scannen") == (1, "3 Scannen")
    # a sentence that happens to start with a number is not a heading
    assert d.detect("4 Wochen nach Eingang ist die Akte abzulegen.") is None


def test_paragraph_headings_ascend() -> None:
    d = HeadingDetector()
    assert d.detect("§ 1 Geltungsbereich")
    assert d.detect("§ 2 Begriffe")
    assert d.detect("§ 1 Abs. 2 gilt entsprechend.") is None


def test_sentences_respect_german_abbreviations() -> None:
    text = "Vorzulegen sind z. B. der Ausweis und die eVB-Nummer. Die Frist beträgt gem. § 6 Abs. 2 zwei Wochen. Ab dem 1. März gilt Neues."
    assert split_sentences(text) == [
        "Vorzulegen sind z. B. der Ausweis und die eVB-Nummer.",
        "Die Frist beträgt gem. § 6 Abs. 2 zwei Wochen.",
        "Ab dem 1. März gilt Neues.",
    ]
