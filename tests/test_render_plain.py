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
