from __future__ import annotations

import re
from pathlib import Path

from kreiswissen.schema import LoadedDocument

from .builder import BlockBuilder
from .text_loader import read_text

_ATX = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)


def load_markdown(path: Path) -> LoadedDocument:
    text = read_text(path)
    title = ""
    if m := _FRONT_MATTER.match(text):
        for ln in m.group(1).splitlines():
            key, _, value = ln.partition(":")
            if key.strip().lower() == "title" and value.strip():
                title = value.strip().strip("\"'")
        text = text[m.end() :]
    builder = BlockBuilder()
    in_fence = False
    title_level = 0
    for ln in text.splitlines():
        if ln.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        if not in_fence and (m := _ATX.match(ln)):
            level, heading = len(m.group(1)), m.group(2)
            # The first top-level heading is the document's title (it often carries the
            # abbreviation, "Bundesmeldegesetz (BMG)"), not a section.
            if not title_level and level == 1:
                title_level = 1
                title = heading
                continue
            builder.heading(level, heading)
            continue
        builder.line(ln.rstrip())
    builder.flush()
    return LoadedDocument(path=str(path), title=title or path.stem, blocks=builder.blocks)
