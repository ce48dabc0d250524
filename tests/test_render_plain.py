"""Text from documents or the model is inert Markdown: rendered, it shows as written and holds no link,
image or HTML. (The browser test checks Gradio's own renderer; this one runs in milliseconds.)"""

from __future__ import annotations

import html
import re

import pytest
from markdown_it import MarkdownIt

from ui.render import plain

PAYLOADS = [
    "[hier](https://evil.example/x)",
    "![Bild](https://evil.example/i.png)",
    '<img src="https://evil.example/h.png">',
    '<a href="https://evil.example/a">Portal</a>',
    "<https://evil.example/auto>",
    "[Verweis]\n\n[Verweis]: https://evil.example/ref",
    "<script>alert(1)</script>",
    "\\[x\\](https://evil.example/escaped)",
    "[hier](https://evil.example/partial",  # mid-stream
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_renders_as_its_own_text(payload: str) -> None:
    rendered = MarkdownIt("commonmark").render(plain(f"Die Gebühr beträgt 18 Euro [1]. {payload}"))
    assert "<a " not in rendered and "<img" not in rendered and "<script" not in rendered
    shown = html.unescape(re.sub(r"<[^>]+>", "", rendered))
    assert "[1]" in shown and ("evil.example" in shown or "alert(1)" in shown)


def test_plain_keeps_ordinary_text_readable() -> None:
    rendered = MarkdownIt("commonmark").render(plain("Antrag (Formular A-3) für 25 € – „bitte“ prüfen [2]."))
    assert html.unescape(re.sub(r"<[^>]+>", "", rendered)).strip() == (
        "Antrag (Formular A-3) für 25 € – „bitte“ prüfen [2]."
    )


def test_a_sentence_with_its_list_renders_as_one_quote_with_its_lines() -> None:
    from kreiswissen.schema import Chunk, Evidence, Extract, Source
    from ui.render import extract_markdown

    source = Source(1, Chunk("c", "", "beeg", "BEEG", "§ 16 Inanspruchnahme", "x"), score=1.0)
    extract = Extract(
        [
            Evidence(1, "(1) Wer Elternzeit beanspruchen will, muss sie"),
            Evidence(1, "1. spätestens sieben Wochen und", follows=True),
            Evidence(1, "2. spätestens 13 Wochen vor Beginn verlangen.", follows=True),
            Evidence(1, "(4) Ein anderer Absatz."),
        ]
    )
    rendered = MarkdownIt("commonmark").render(extract_markdown(extract, [source]))
    quotes = re.findall(r"<blockquote>(.*?)</blockquote>", rendered, re.S)
    assert len(quotes) == 1  # one blockquote, two passages: the list is not cut into three quotes
    assert rendered.count("§ 16 Inanspruchnahme") == 2  # a label per passage, not per line
    assert rendered.count("<br />") == 2  # the list keeps its lines
    assert "sieben Wochen und<br />" in rendered


def test_the_sentences_that_answer_stand_out_in_bold_and_stay_inert() -> None:
    from kreiswissen.schema import Chunk, Evidence, Extract, Source
    from ui.render import extract_markdown

    source = Source(1, Chunk("c", "", "gebo", "Gebührenordnung", "§ 3 Gebühren", "x"), score=1.0)
    extract = Extract(
        [
            Evidence(1, "Für die Zulassung gilt:", score=0.60),
            Evidence(1, "1. Die Gebühr beträgt 28,60 € [hier](https://evil.example) *netto*", 0.95, True),
            Evidence(1, "- ermäßigt 14 € für_alle", score=0.90, follows=True),
            Evidence(1, "Die Kasse ist montags geöffnet.", score=0.50),
        ]
    )
    rendered = MarkdownIt("commonmark").render(extract_markdown(extract, [source]))
    strong = re.findall(r"<strong>(.*?)</strong>", rendered)
    # The heading's bold, then the two units within the share of the best score: nothing else.
    assert [html.unescape(s) for s in strong[1:]] == [
        "1. Die Gebühr beträgt 28,60 € [hier](https://evil.example) *netto*",
        "- ermäßigt 14 € für_alle",
    ]
    assert "<a " not in rendered and "<ol" not in rendered and "<ul" not in rendered
    assert rendered.count("<em>") == 2  # the two passages' labels: the document's *netto* stays as written
    assert "Für die Zulassung gilt:<br />" in rendered  # the introduction stays plain


def test_no_bold_when_nothing_stands_out() -> None:
    from kreiswissen.schema import Chunk, Evidence, Extract, Source
    from ui.render import extract_markdown

    source = Source(1, Chunk("c", "", "gebo", "Gebührenordnung", "§ 3 Gebühren", "x"), score=1.0)
    for extract in (
        Extract([Evidence(1, "Die Gebühr beträgt 28,60 €.", score=0.9)]),
        Extract([Evidence(1, "Die Gebühr beträgt 28,60 €.", 0.9), Evidence(1, "Ermäßigt 14 €.", 0.85)]),
    ):
        assert extract_markdown(extract, [source]).count("**") == 2  # the heading's only
