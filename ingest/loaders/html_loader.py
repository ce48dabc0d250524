"""HTML pages: the main content of any markup, with its headings, via trafilatura.

trafilatura removes navigation, headers, footers and cookie banners by the page's structure and text
density, not by a fixed list of tags, and also reads pages built only from <div>s. Its XML output keeps
headings, paragraphs, lists and tables, which become heading-tagged blocks here. When it finds nothing
(a tiny page), all visible text is read instead.
"""

from __future__ import annotations

from pathlib import Path

import trafilatura
from bs4 import BeautifulSoup
from lxml import etree

from kreiswissen.schema import LoadedDocument

from .builder import BlockBuilder
from .text_loader import read_text

_INVISIBLE = ["script", "style", "noscript", "template", "head"]


def _text(el: etree._Element) -> str:
    return " ".join("".join(el.itertext()).split())


def _title(soup: BeautifulSoup, path: Path) -> str:
    h1 = soup.find("h1")
    if h1 and h1.get_text(strip=True):
        return h1.get_text(" ", strip=True)
    if soup.title and soup.title.get_text(strip=True):
        return soup.title.get_text(" ", strip=True)
    return path.stem


def _main_content(html: str, title: str) -> BlockBuilder | None:
    xml = trafilatura.extract(
        html,
        output_format="xml",
        include_tables=True,
        include_comments=False,
        include_links=False,
        include_images=False,
        favor_recall=True,
        deduplicate=False,
    )
    main = etree.fromstring(xml.encode("utf-8")).find("main") if xml else None
    if main is None:
        return None
    # A page without heading markup (<div> soup) gets its headings from numbering, as text files do.
    builder = BlockBuilder(detect_headings=all(h.get("rend") == "h1" for h in main.iter("head")))
    found = False
    for el in main.iter("head", "p", "item", "row", "quote", "code"):
        if el.getparent() is not None and el.getparent().tag in ("item", "cell", "quote"):
            continue  # read once, with its container
        text = _text(el)
        if not text:
            continue
        found = True
        if el.tag == "head":
            rend = el.get("rend", "h2")
            level = int(rend[1]) if rend[:1] == "h" and rend[1:].isdigit() else 2
            if level == 1 and text == title:
                continue
            builder.heading(level, text)
        elif el.tag == "row":
            builder.line(" | ".join(_text(c) for c in el.iter("cell") if _text(c)))
        elif el.tag == "item":
            builder.paragraph("• " + text)
        elif builder.detect:
            builder.line(text)
            builder.line("")
        else:
            builder.paragraph(text)
    return builder if found else None


def _all_visible_text(soup: BeautifulSoup, builder: BlockBuilder) -> None:
    for tag in soup(_INVISIBLE):
        tag.decompose()
    for line in soup.get_text("\n").splitlines():
        if line.strip():
            builder.paragraph(" ".join(line.split()))


def load_html(path: Path) -> LoadedDocument:
    html = read_text(path)
    soup = BeautifulSoup(html, "html.parser")
    title = _title(soup, path)
    builder = _main_content(html, title)
    if builder is None:
        builder = BlockBuilder()
        _all_visible_text(soup, builder)
    builder.flush()
    return LoadedDocument(path=str(path), title=title, blocks=builder.blocks)
