from __future__ import annotations

from pathlib import Path

from bs4 import BeautifulSoup

from kreiswissen.schema import LoadedDocument

from .builder import BlockBuilder
from .text_loader import read_text

_BOILERPLATE = ["script", "style", "noscript", "nav", "header", "footer", "aside", "form", "template"]
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_TEXT_TAGS = {"p", "li", "tr", "dt", "dd", "pre", "blockquote", "caption"}


def load_html(path: Path) -> LoadedDocument:
    soup = BeautifulSoup(read_text(path), "html.parser")
    for tag in soup(_BOILERPLATE):
        tag.decompose()
    body = soup.body or soup
    h1 = body.find("h1")
    title_tag = soup.title.get_text(" ", strip=True) if soup.title else ""
    title = (h1.get_text(" ", strip=True) if h1 else "") or title_tag or path.stem
    builder = BlockBuilder()
    for el in body.find_all([*_HEADINGS, *_TEXT_TAGS]):
        # Only the innermost text containers: a <p> inside an <li> is read once, via the <li>.
        if el.name in _TEXT_TAGS and el.find_parent(_TEXT_TAGS):
            continue
        if el.name in _HEADINGS:
            if el is h1:
                continue
            builder.heading(_HEADINGS[el.name], el.get_text(" ", strip=True))
        elif el.name == "tr":
            cells = [c.get_text(" ", strip=True) for c in el.find_all(["td", "th"])]
            builder.line(" | ".join(c for c in cells if c))
        else:
            text = el.get_text(" ", strip=True)
            if text:
                builder.paragraph(("• " if el.name == "li" else "") + text)
    builder.flush()
    return LoadedDocument(path=str(path), title=title, blocks=builder.blocks)
