"""HTML for answers and sources. Everything from documents or the model is escaped: text is
shown, never rendered as markup."""

from __future__ import annotations

import re
from html import escape
from urllib.parse import quote

from kreiswissen.schema import Answer, Source
from rag.german_text import analyze

_WORD = re.compile(r"[\wäöüÄÖÜß]+")


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


def document_link(source: Source) -> str:
    url = f"/dokument/{quote(source.chunk.id)}"
    if source.chunk.page and source.chunk.source_path.lower().endswith(".pdf"):
        url += f"#page={source.chunk.page}"
    return url


def source_card(source: Source, question: str) -> str:
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
        f'<p><a href="{document_link(source)}" target="_blank" rel="noopener">'
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
        parts.append("<h3>Zitierte Quellen</h3>")
        parts += [source_card(s, question) for s in answer.cited_sources]
    if answer.further_sources:
        parts.append("<h3>Weitere Fundstellen</h3>")
        parts += [source_card(s, question) for s in answer.further_sources]
    return "".join(parts)


def answer_markdown(answer: Answer) -> str:
    """The chat message: escaped answer text, then a plain list of the cited sources."""
    text = escape(answer.text)
    if answer.refused:
        return text
    lines = [text]
    if answer.cited_sources:
        lines.append("\n\n**Quellen:**")
        lines += [f"\n[{s.number}] {escape(s.label)}" for s in answer.cited_sources]
    if answer.flagged:
        nums = ", ".join(f"[{n}]" for n in answer.flagged)
        lines.append(f"\n\n⚠️ Hinweis: Die Belege {nums} stützen ihre Aussage nicht sicher – bitte prüfen.")
    return "".join(lines)
