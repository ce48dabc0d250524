"""Data types that cross layers: defined once, used by ingest, rag, ui, eval and the CLI."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Block:
    """A piece of a loaded document: running text under one heading path, on one page."""

    text: str
    headings: tuple[str, ...] = ()
    page: int | None = None


@dataclass
class LoadedDocument:
    path: str
    title: str
    blocks: list[Block]
    pages: int | None = None


@dataclass
class Chunk:
    """One retrievable unit of a document, as stored in the index."""

    id: str
    text: str
    doc_id: str  # file stem, used by eval question sets
    title: str
    section: str  # heading path joined with " › "
    source_path: str
    page: int | None = None
    page_end: int | None = None
    position: int = 0
    # Where each page of a chunk that spans pages begins: (character offset in `text`, page), the
    # first at 0; empty within one page. A quoted sentence cites the page it stands on.
    page_starts: list[tuple[int, int]] = field(default_factory=list)

    @property
    def heading_line(self) -> str:
        return f"{self.title} › {self.section}" if self.section else self.title

    def page_at(self, offset: int) -> int | None:
        """The page on which the character at `offset` of the text stands."""
        page = self.page
        for start, p in self.page_starts:
            if start > offset:
                break
            page = p
        return page


@dataclass
class Source:
    """A retrieved chunk with its score; number is the [n] it carries in the answer."""

    number: int
    chunk: Chunk
    score: float
    retriever: str = ""

    @property
    def label(self) -> str:
        return self.label_at()

    def label_at(self, page: int | None = None, page_end: int | None = None) -> str:
        """The label citing `page` (to `page_end`): where a quoted passage stands, which in a chunk
        spanning pages may be after its first page (the default)."""
        c = self.chunk
        parts = [c.title]
        if c.section:
            parts.append(c.section.split(" › ")[-1])
        page = page or c.page
        if page:
            parts.append(f"S. {page}" + (f"–{page_end}" if page_end and page_end > page else ""))
        return ", ".join(parts)

    def to_dict(self, *fields: str, rename: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The one JSON form of a source (audit log, feedback, UI API, eval results): the fields asked
        for, in that order (all without any) of number, doc_id, title, section, page, page_end, path,
        text, score; `rename` gives a field another key where a file format has its own name for it."""
        c = self.chunk
        values: dict[str, Any] = {
            "number": self.number,
            "doc_id": c.doc_id,
            "title": c.title,
            "section": c.section,
            "page": c.page,
            "page_end": c.page_end,
            "path": c.source_path,
            "text": c.text,
            "score": self.score,
        }
        names = rename or {}
        return {names.get(f, f): values[f] for f in fields or values}


@dataclass
class Evidence:
    """One sentence unit (sentence, list item or table row) quoted verbatim from a source."""

    source_number: int  # the [n] of the source it comes from
    text: str
    score: float = 0.0
    follows: bool = False  # directly continues the evidence before it (the next line of a list)
    page: int | None = None  # the page it stands on (None: its chunk's page)


@dataclass
class Extract:
    """The instant extractive answer ("Fundstelle"): the best-matching units of the top sources."""

    evidence: list[Evidence]
    weak: bool = False  # no clear match: these are only the nearest passages, and nothing is generated

    def runs(self) -> list[list[Evidence]]:
        """Runs of units that follow each other in their source (a sentence with its list); "…"
        belongs between runs, never inside one."""
        runs: list[list[Evidence]] = []
        for e in self.evidence:
            if e.follows and runs and runs[-1][0].source_number == e.source_number:
                runs[-1].append(e)
            else:
                runs.append([e])
        return runs

    def passages(self) -> list[tuple[int, list[str]]]:
        """The runs, each as (source number, lines)."""
        return [(run[0].source_number, [e.text for e in run]) for run in self.runs()]

    def passage_texts(self) -> list[str]:
        """Each passage as one text, its lines joined by line breaks."""
        return ["\n".join(lines) for _, lines in self.passages()]

    def text(self) -> str:
        return " … ".join(self.passage_texts())

    def quoted(self) -> str:
        """Each passage in quotation marks with its source marker."""
        return "\n".join(f"„{chr(10).join(lines)}“ [{n}]" for n, lines in self.passages())


@dataclass
class Answer:
    question: str
    text: str  # what the user is shown as the answer (verified generation, or the extract)
    sources: list[Source]  # everything retrieved and shown to the model
    cited: list[int] = field(default_factory=list)  # source numbers the answer cites and that check out
    flagged: list[int] = field(default_factory=list)  # cited numbers whose sentence is not supported
    refused: bool = False
    standalone_question: str | None = None  # the query searched, where the earlier question joined it
    context_question: str | None = None  # the earlier question of the conversation taken into account
    model: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    extract: Extract | None = None
    generated: str = ""  # the generator's raw text, before verification
    verified: bool = False  # the generated text survived fact-level verification and is shown
    notice: str = ""  # German note for the user (e.g. why the extract is shown instead)

    @property
    def outcome(self) -> str:
        """ "answer" (a clear match: extract and generated text), "weak" (the nearest passages only, no
        generated text) or "refused" (no passage shown)."""
        if self.refused:
            return "refused"
        return "weak" if self.extract is not None and self.extract.weak else "answer"

    def shown_text(self) -> str:
        """Everything the user reads as the answer: the quoted extract, then the verified generated
        text (without verification, `text` is the extract itself)."""
        if self.refused or not self.verified or self.extract is None or not self.extract.evidence:
            return self.text
        return f"{self.extract.quoted()}\n\n{self.text}"

    def to_dict(
        self,
        *fields: str,
        source_fields: Sequence[str] = (),
        source_rename: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """The one JSON form of an answer: the fields asked for, in that order (all without any) of
        question, standalone_question, answer (`text`), outcome, refused, verified, notice, extract (the
        quoted units), generated, cited and further (sources as `Source.to_dict(*source_fields)`),
        flagged, model, timings, context_question."""

        def sources(chosen: list[Source]) -> list[dict[str, Any]]:
            return [s.to_dict(*source_fields, rename=source_rename) for s in chosen]

        values: dict[str, Any] = {
            "question": self.question,
            "standalone_question": self.standalone_question,
            "answer": self.text,
            "outcome": self.outcome,
            "refused": self.refused,
            "verified": self.verified,
            "notice": self.notice,
            "extract": self.extract.passage_texts() if self.extract else [],
            "generated": self.generated,
            "cited": sources(self.cited_sources),
            "further": sources(self.further_sources),
            "flagged": self.flagged,
            "model": self.model,
            "timings": self.timings,
            "context_question": self.context_question,
        }
        return {f: values[f] for f in fields or values}

    @property
    def cited_sources(self) -> list[Source]:
        return [s for s in self.sources if s.number in self.cited]

    @property
    def further_sources(self) -> list[Source]:
        return [s for s in self.sources if s.number not in self.cited]
