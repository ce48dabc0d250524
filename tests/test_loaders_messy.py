"""Messy input that must load: HTML without semantic markup, text in Windows-1252 and UTF-16; and
feedback that keeps no question or answer when the installation says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.loaders import LoadError, load_document
from kreiswissen.schema import Answer, Chunk, Source
from kreiswissen.settings import AuditSettings, Settings
from ui.feedback import AnswerRecord, FeedbackStore

DIV_PAGE = """<!doctype html><html><head><title>Abfallkalender</title></head><body>
<div class="kopf"><div class="menue">Startseite | Bürgerservice | Kontakt</div></div>
<div class="inhalt">
  <div class="titel">Abfallkalender des Landkreises</div>
  <div class="absatz">Die Biotonne wird im Landkreis Falkenried wöchentlich geleert, von November bis März
  alle zwei Wochen. Gelbe Säcke holt der Entsorger jeden zweiten Dienstag ab.</div>
  <div class="absatz">Sperrmüll wird zweimal im Jahr kostenlos abgeholt; die Anmeldung erfolgt über das
  Bürgerbüro mit der Karte aus dem Abfallkalender. Größere Mengen gehören zum Wertstoffhof.</div>
</div>
<div class="fuss">© Landkreis Falkenried · Impressum · Datenschutz</div>
</body></html>"""

TEXT = (
    "Merkblatt Müllgebühren\n\n1 Gebühren\nDie Grundgebühr beträgt 84 € im Jahr; für jede weitere Tonne "
    "werden 42 € fällig. Größere Gefäße kosten einen Aufschlag.\n"
)


def test_a_div_only_page_keeps_its_text(tmp_path: Path) -> None:
    page = tmp_path / "abfall.html"
    page.write_text(DIV_PAGE, encoding="utf-8")
    doc = load_document(page)
    text = " ".join(b.text for b in doc.blocks)
    assert "Biotonne wird im Landkreis Falkenried wöchentlich geleert" in text
    assert "Sperrmüll wird zweimal im Jahr kostenlos abgeholt" in text


@pytest.mark.parametrize("encoding", ["cp1252", "utf-16", "utf-16-le", "utf-8-sig"])
def test_text_in_windows_and_unicode_encodings_keeps_its_umlauts(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / f"merkblatt-{encoding}.txt"
    path.write_bytes(TEXT.encode(encoding))
    doc = load_document(path)
    text = doc.title + " " + " ".join(b.text for b in doc.blocks)
    assert doc.title == "Merkblatt Müllgebühren"
    assert "beträgt 84 € im Jahr" in text and "Größere Gefäße" in text
    assert "Ã" not in text and "\x00" not in text


def test_binary_data_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "programm.txt"
    path.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(LoadError, match="Binärdaten"):
        load_document(path)


def _answer() -> Answer:
    chunk = Chunk(id="c1", text="Die Frist beträgt 72 Stunden.", doc_id="d", title="Leitfaden", section="",
                  source_path="/x/d.md")  # fmt: skip
    return Answer(
        question="Muss Frau Meier aus Zimmer 12 die Datenpanne melden?",
        text="Ja, innerhalb von 72 Stunden [1].",
        sources=[Source(number=1, chunk=chunk, score=1.0)],
        cited=[1],
        standalone_question="Muss Frau Meier die Datenpanne melden?",
    )


@pytest.mark.parametrize("log_questions", [True, False])
def test_feedback_honours_log_questions(tmp_path: Path, log_questions: bool) -> None:
    settings = Settings(data_dir=tmp_path / "data", audit=AuditSettings(log_questions=log_questions))
    store = FeedbackStore.for_settings(settings)
    store.save(AnswerRecord.from_answer(_answer(), "kreiswissen", settings), 1, "gut")
    row = store.rows()[0]
    stored = " ".join(str(v) for v in row.values())
    assert row["rating"] == 1 and row["comment"] == "gut" and "Leitfaden" in row["sources"]
    assert ("Meier" in stored) is log_questions
    assert ("72 Stunden" in stored) is log_questions
