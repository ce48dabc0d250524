"""HTML for answers and sources. Everything from documents or the model is escaped: text is
shown, never rendered as markup."""

from __future__ import annotations

import re
from html import escape
from urllib.parse import quote

from kreiswissen.schema import Answer, Evidence, Extract, Source
from text.german_text import analyze

_WORD = re.compile(r"[\wäöüÄÖÜß]+")

# Characters that let Markdown text become a link, an image, an autolink or HTML in the chat. They are
# written as character references, which Markdown shows as the character and never parses as syntax.
_ACTIVE = {"[": "&#91;", "]": "&#93;", "@": "&#64;", "`": "&#96;"}
_LINE_START = re.compile(r"^(\d*)([.)\-*+#>])")  # what would start a list, heading or quote
_AUTOLINK = re.compile(r"(?i)(?<=[a-z0-9])(:)(?=//)|\b(www)(\.)")


def plain(text: str) -> str:
    """Text from documents or the model as inert Markdown: shown as written, never as a link, image,
    autolink (URL, www., e-mail) or HTML, also while it streams in token by token."""
    text = escape(text, quote=False)
    text = _AUTOLINK.sub(lambda m: "&#58;" if m.group(1) else f"{m.group(2)}&#46;", text)
    return "".join(_ACTIVE.get(ch, ch) for ch in text).replace("\\", "&#92;")


def highlight(text: str, question: str) -> str:
    """Escape the passage and mark the words that share a stem with the question."""
    wanted = set(analyze(question))
    out: list[str] = []
    last = 0
    for m in _WORD.finditer(text):
        out.append(escape(text[last : m.start()]))
        word = m.group(0)
        stems = analyze(word)
        out.append(f"<mark>{escape(word)}</mark>" if stems and stems[0] in wanted else escape(word))
        last = m.end()
    out.append(escape(text[last:]))
    return "".join(out)


def document_link(source: Source, page: int | None = None) -> str:
    """The original; a PDF opens on `page` (where the quoted sentence stands) or the chunk's first."""
    url = f"/dokument/{quote(source.chunk.id)}"
    page = page or source.chunk.page
    if page and source.chunk.source_path.lower().endswith(".pdf"):
        url += f"#page={page}"
    return url


def quoted_pages(extract: Extract | None) -> dict[int, int]:
    """Source number → the page its best quoted sentence stands on (where it is known): the page the
    original opens on and its short citation name."""
    best: dict[int, Evidence] = {}
    for e in extract.evidence if extract else []:
        if e.page and (e.source_number not in best or e.score > best[e.source_number].score):
            best[e.source_number] = e
    return {n: e.page for n, e in best.items() if e.page}


def source_card(source: Source, question: str, page: int | None = None) -> str:
    c = source.chunk
    meta = []
    if c.section:
        meta.append(escape(c.section.split(" › ")[-1]))
    if c.page:
        meta.append(f"Seite {c.page}" + (f"–{c.page_end}" if c.page_end and c.page_end != c.page else ""))
    return (
        f'<article class="kw-source" id="quelle-{source.number}" aria-label="Quelle {source.number}">'
        f'<h4><span class="kw-num">[{source.number}]</span> {escape(c.title)}</h4>'
        f'<p class="kw-meta">{" · ".join(meta)}</p>'
        f'<blockquote class="kw-passage">{highlight(c.text, question)}</blockquote>'
        f'<p><a href="{document_link(source, page)}" target="_blank" rel="noopener">'
        f'Originaldokument öffnen<span class="kw-sr"> (Quelle {source.number}, neues Fenster)</span></a></p>'
        "</article>"
    )


def sources_html(sources: list[Source], question: str, answer: Answer | None = None) -> str:
    if not sources:
        return '<p class="kw-empty">Noch keine Quellen. Stellen Sie eine Frage.</p>'
    if answer is None:
        return "<h3>Gefundene Quellen</h3>" + "".join(source_card(s, question) for s in sources)
    parts = []
    if answer.refused:
        parts.append("<h3>Nächstliegende Dokumente</h3>")
        parts += [source_card(s, question) for s in sources]
        return "".join(parts)
    if answer.cited_sources:
        pages = quoted_pages(answer.extract)
        parts.append("<h3>Zitierte Quellen</h3>")
        parts += [source_card(s, question, pages.get(s.number)) for s in answer.cited_sources]
    if answer.further_sources:
        parts.append("<h3>Weitere Fundstellen</h3>")
        parts += [source_card(s, question) for s in answer.further_sources]
    return "".join(parts)


EXTRACT_HEADING = "**Fundstelle** – wörtlich aus dem Dokument, ohne KI:"
WEAK_HEADING = (
    "**Keine eindeutige Fundstelle – die ähnlichsten Stellen** (wörtlich aus den Dokumenten, ohne KI):"
)
GENERATED_HEADING = (
    "**Antwort des Sprachmodells** – KI-generiert; jede Aussage mit der zitierten Stelle abgeglichen "
    "(Zahlen mit Einheit, Beträge, Fristen, Daten, mindestens/höchstens, vor/nach, Verneinungen):"
)


KEY_SHARE = 0.9  # a unit scoring this share of the extract's best score answers the question: bold


def answering(evidence: list[Evidence]) -> list[Evidence]:
    """The units that answer the question: those scoring close to the best. None when that is every
    unit: bold on all of them would single out nothing."""
    best = max((e.score for e in evidence), default=0.0)
    key = [e for e in evidence if best > 0 and e.score >= KEY_SHARE * best]
    return key if len(key) < len(evidence) else []


def _quote_line(text: str, bold: bool) -> str:
    # Document text shows as written: its "*" and "_" neither emphasise nor break the bold around it;
    # an item's "1." must not start a Markdown list.
    line = plain(text).replace("*", "&#42;").replace("_", "&#95;")
    line = _LINE_START.sub(lambda m: f"{m[1]}&#{ord(m[2])};", line)
    return f"**{line}**" if bold else line


def extract_markdown(extract: Extract | None, sources: list[Source]) -> str:
    """The instant extract as quoted lines, each passage with its source and the page it stands on;
    the sentences that answer the question in bold (<strong>: screen readers can announce it), so the
    eye finds them in a longer quote."""
    if extract is None or not extract.evidence:
        return ""
    by_number = {s.number: s for s in sources}
    key = {id(e) for e in answering(extract.evidence)}
    lines = [WEAK_HEADING if extract.weak else EXTRACT_HEADING]
    for run in extract.runs():
        number = run[0].source_number
        source = by_number.get(number)
        label = plain(source.label_at(run[0].page, run[-1].page)) if source else ""
        # A list keeps its lines (hard breaks).
        quote = "  \n> ".join(_quote_line(e.text, id(e) in key) for e in run)
        lines.append(f"> „{quote}“ [{number}] *({label})*")
    return "\n".join(lines)


def queue_markdown(position: int) -> str:
    ahead = "eine Anfrage" if position == 1 else f"{position} Anfragen"
    return (
        f"⏳ Die ausformulierte Antwort folgt – vor Ihnen {'wartet' if position == 1 else 'warten'} {ahead}."
    )


def answer_markdown(answer: Answer) -> str:
    """The chat message: the extract (quoted), then the verified generated answer or the notice why
    there is none, then a plain list of the cited sources. Everything escaped."""
    if answer.refused:
        return plain(answer.text)
    extract = extract_markdown(answer.extract, answer.sources)
    if answer.verified:
        text = f"{GENERATED_HEADING}\n\n{plain(answer.text)}"
    else:
        text = "" if extract else plain(answer.text)
    if answer.notice:
        text += f"\n\nℹ️ {plain(answer.notice)}"
    lines = ["\n\n".join(part for part in (extract, text.strip()) if part)]
    if answer.cited_sources:
        pages = quoted_pages(answer.extract)
        lines.append("\n\n**Quellen:**")
        lines += [f"\n[{s.number}] {plain(s.label_at(pages.get(s.number)))}" for s in answer.cited_sources]
    if answer.flagged:
        nums = ", ".join(f"[{n}]" for n in answer.flagged)
        lines.append(f"\n\n⚠️ Hinweis: Die Belege {nums} stützen ihre Aussage nicht sicher – bitte prüfen.")
    return "".join(lines)
