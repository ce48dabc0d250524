"""Compare HTML text extraction: the former BeautifulSoup loader vs the trafilatura loader.

For each HTML page of a folder (default corpus/) and for a "<div> soup" variant of it (every semantic
tag - main, article, nav, header, footer, p, h2, li - renamed to <div>, as content management systems
often write pages), it prints:
  content recall  share of the words of <main> that the loader keeps
  boilerplate     share of the words of <nav>/<header>/<footer>/<aside> that leak into the text
  headings        share of the <h2>-<h6> headings of <main> that come out as headings

    .venv/bin/python tools/compare_html_extraction.py [folder]
"""

from __future__ import annotations

import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.loaders.builder import BlockBuilder  # noqa: E402
from ingest.loaders.html_loader import load_html  # noqa: E402
from kreiswissen.schema import LoadedDocument  # noqa: E402

_WORD = re.compile(r"\w+")
_SEMANTIC = ["main", "article", "section", "nav", "header", "footer", "aside", "p", "li", "ul", "ol"]
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}


def beautifulsoup_loader(path: Path) -> LoadedDocument:
    """The loader this project used before (commit 9fb2fae): fixed boilerplate tags, text tags only."""
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "aside", "form", "template"]):
        tag.decompose()
    body = soup.body or soup
    h1 = body.find("h1")
    builder = BlockBuilder()
    text_tags = {"p", "li", "tr", "dt", "dd", "pre", "blockquote", "caption"}
    for el in body.find_all([*_HEADINGS, *text_tags]):
        if el.name in text_tags and el.find_parent(text_tags):
            continue
        if el.name in _HEADINGS:
            if el is not h1:
                builder.heading(_HEADINGS[el.name], el.get_text(" ", strip=True))
        elif el.name == "tr":
            builder.line(" | ".join(c.get_text(" ", strip=True) for c in el.find_all(["td", "th"])))
        elif text := el.get_text(" ", strip=True):
            builder.paragraph(text)
    builder.flush()
    title = h1.get_text(" ", strip=True) if h1 else ""
    return LoadedDocument(path=str(path), title=title, blocks=builder.blocks)


def words(text: str) -> Counter:
    return Counter(w.lower() for w in _WORD.findall(text))


def overlap(part: Counter, whole: Counter) -> float:
    total = sum(part.values())
    return sum(min(n, whole[w]) for w, n in part.items()) / total if total else 1.0


def div_soup(html: str) -> str:
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all([*_SEMANTIC, "h2", "h3", "h4", "h5", "h6"]):
        tag.attrs = {"class": tag.name}
        tag.name = "div"
    return str(soup)


def measure(html: str, loader, folder: Path, gold: BeautifulSoup) -> tuple[float, float, float]:
    page = folder / "page.html"
    page.write_text(html, encoding="utf-8")
    try:
        doc = loader(page)
    except Exception:
        return 0.0, 0.0, 0.0
    text = words(
        doc.title
        + " "
        + " ".join(b.text for b in doc.blocks)
        + " "
        + " ".join(h for b in doc.blocks for h in b.headings)
    )
    main = gold.find("main") or gold.body
    content = words(main.get_text(" "))
    boiler = words(" ".join(t.get_text(" ") for t in gold.find_all(["nav", "header", "footer", "aside"])))
    boiler -= content
    headings = {h.get_text(" ", strip=True) for h in main.find_all(["h2", "h3", "h4", "h5", "h6"])}
    kept = {h for b in doc.blocks for h in b.headings}
    return (
        overlap(content, text),
        overlap(boiler, text) if boiler else 0.0,
        len(headings & kept) / max(1, len(headings)),
    )


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "corpus"
    loaders = {"BeautifulSoup (vorher)": beautifulsoup_loader, "trafilatura (jetzt)": load_html}
    print(f"{'Seite':42} {'Variante':9} {'Lader':24} {'Inhalt':>7} {'Rahmen':>7} {'Überschr.':>9}")
    totals: dict[str, list[tuple[float, float, float]]] = {name: [] for name in loaders}
    with tempfile.TemporaryDirectory() as tmp:
        for path in sorted(folder.glob("*.htm*")):
            html = path.read_text(encoding="utf-8")
            gold = BeautifulSoup(html, "html.parser")
            for variant, page in (("original", html), ("div-soup", div_soup(html))):
                for name, loader in loaders.items():
                    recall, leak, heads = measure(page, loader, Path(tmp), gold)
                    totals[name].append((recall, leak, heads))
                    print(f"{path.name:42} {variant:9} {name:24} {recall:7.1%} {leak:7.1%} {heads:9.1%}")
    for name, rows in totals.items():
        n = len(rows)
        means = [sum(r[i] for r in rows) / n for i in range(3)]
        print(f"{'Mittel':42} {'':9} {name:24} {means[0]:7.1%} {means[1]:7.1%} {means[2]:9.1%}")


if __name__ == "__main__":
    main()
