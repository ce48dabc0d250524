"""Retrieval ablation: the same questions and index under each retrieval configuration."""

from __future__ import annotations

from pathlib import Path

from kreiswissen.settings import Settings

from .metrics import compute_metrics
from .report import fmt
from .runner import run_questions

# Stages are added one at a time; the last row is the default configuration.
_OLD = {
    "decompound": False,
    "legal_parser": "regex",
    "rerank_bm25_ceiling": False,
    "transitional_penalty": 0.0,
}
CONFIGS: dict[str, dict] = {
    "dense": {"mode": "dense", "rerank": False, "legal_refs": False},
    "bm25": {"mode": "bm25", "rerank": False, "legal_refs": False, **_OLD},
    "bm25+decompound": {"mode": "bm25", "rerank": False, "legal_refs": False, "decompound": True},
    "hybrid": {"mode": "hybrid", "rerank": False, "legal_refs": False, **_OLD},
    "hybrid+rerank": {
        "mode": "hybrid", "rerank": True, "legal_refs": True, "rerank_sentence_weight": 0.0, **_OLD,
    },
    "+sentences": {"mode": "hybrid", "rerank": True, "legal_refs": True, "rerank_sentence_weight": 0.3, **_OLD},
    "+decompound": {
        "mode": "hybrid", "rerank": True, "legal_refs": True, "rerank_sentence_weight": 0.3,
        "decompound": True, "legal_parser": "regex", "rerank_bm25_ceiling": False, "transitional_penalty": 0.0,
    },
    "+legal parser": {
        "mode": "hybrid", "rerank": True, "legal_refs": True, "rerank_sentence_weight": 0.3,
        "decompound": True, "legal_parser": "bundesrecht", "rerank_bm25_ceiling": False, "transitional_penalty": 0.0,
    },
    "+BM25 ceiling": {
        "mode": "hybrid", "rerank": True, "legal_refs": True, "rerank_sentence_weight": 0.3,
        "decompound": True, "legal_parser": "bundesrecht", "rerank_bm25_ceiling": True, "transitional_penalty": 0.0,
    },
    "+transitional prior": {
        "mode": "hybrid", "rerank": True, "legal_refs": True, "rerank_sentence_weight": 0.3,
        "decompound": True, "legal_parser": "bundesrecht", "rerank_bm25_ceiling": True, "transitional_penalty": 0.1,
    },
}  # fmt: skip
COLUMNS = ["hit@1", "hit@5", "section_hit@1", "section_hit@5", "mrr", "section_mrr", "retrieval_p50_ms"]


def run_ablation(settings: Settings, questions: list[dict], out: Path) -> dict[str, dict]:
    results = {}
    for name, overrides in CONFIGS.items():
        variant = settings.model_copy(
            update={"retrieval": settings.retrieval.model_copy(update=overrides)}, deep=True
        )
        results[name] = compute_metrics(run_questions(variant, questions, retrieval_only=True))
    lines = ["| Konfiguration | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    lines += [f"| {name} | " + " | ".join(fmt(m[c]) for c in COLUMNS) + " |" for name, m in results.items()]
    out.mkdir(parents=True, exist_ok=True)
    (out / "ablation.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return results
