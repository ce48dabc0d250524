"""Retrieval and answer metrics over eval results (one dict per question, as in results.jsonl).

Document-level metrics look at the retrieved chunks' doc ids; section-level ones also need the gold
section ("§ 6", "3.2") to head one of the chunk's heading-path components; page-level ones (questions
with a gold `page`, 1-based, as in the PDF sets) the gold page to lie within the chunk's pages.
"""

from __future__ import annotations

import re
import statistics

from text.facts import contains_fact

KS = (1, 3, 5, 10)
# The texts whose correctness is measured: the extract (quoted sentences), the generator's raw text,
# and what the user is shown as the answer (verified generation or the extract).
FACT_TEXTS = ("extract", "generated", "answer")


def section_matches(gold: str | None, section_path: str) -> bool:
    """True if a component of the heading path starts with the gold section number."""
    if not gold:
        return False
    token = re.sub(r"§\s*", "§ ", gold.strip()).rstrip(".")
    # "§ 6" must not match "§ 6a" or "§ 60", "3.2" not "3.21" or "3.2.1" (its own component has "3.2")
    pattern = re.compile(rf"^{re.escape(token)}(?!\w)(?!\.\d)", re.I)
    return any(pattern.match(part.strip()) for part in section_path.split("›"))


def _doc_hit(row: dict, item: dict) -> bool:
    return item["doc"] == row["doc"]


def _section_hit(row: dict, item: dict) -> bool:
    return item["doc"] == row["doc"] and section_matches(row.get("section"), item.get("section", ""))


def _page_hit(row: dict, item: dict) -> bool:
    first = item.get("page")
    if item["doc"] != row["doc"] or first is None:
        return False
    return first <= row["page"] <= (item.get("page_end") or first)


_HITS = {"doc": _doc_hit, "section": _section_hit, "page": _page_hit}


def first_rank(row: dict, level: str) -> int | None:
    hit = _HITS[level]
    for rank, item in enumerate(row["retrieved"], start=1):
        if hit(row, item):
            return rank
    return None


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q) - 1]


def compute_metrics(rows: list[dict]) -> dict[str, float]:
    answerable = [r for r in rows if r.get("answerable", True)]
    unanswerable = [r for r in rows if not r.get("answerable", True)]
    m: dict[str, float] = {"questions": len(rows), "answerable": len(answerable)}
    for level, prefix in (("doc", ""), ("section", "section_")):
        ranks = [first_rank(r, level) for r in answerable]
        for k in KS:
            m[f"{prefix}hit@{k}"] = _share([rank is not None and rank <= k for rank in ranks])
        m[f"{prefix}mrr"] = _mean([1.0 / rank if rank else 0.0 for rank in ranks])
    paged = [r for r in answerable if r.get("page") is not None]  # only questions with a gold page
    if paged:
        m["page_questions"] = len(paged)
        page_ranks = [first_rank(r, "page") for r in paged]
        for k in KS:
            m[f"page_hit@{k}"] = _share([rank is not None and rank <= k for rank in page_ranks])
        m["page_mrr"] = _mean([1.0 / rank if rank else 0.0 for rank in page_ranks])

    full = [r for r in rows if r.get("mode") == "full"]
    if full:
        pairs = [(r, c) for r in full if r.get("answerable", True) for c in r.get("cited", [])]
        m["citation_precision"] = _share([c["doc"] == r["doc"] for r, c in pairs])
        m["citation_precision_section"] = _share([_section_hit(r, c) for r, c in pairs])
        m["answers_with_citation"] = _share([bool(r.get("cited")) for r in full if not r.get("refused")])
    # In retrieval-only mode "refused" and "outcome" are the relevance gate's decision.
    if answerable:
        m["answer_rate"] = _share([not r.get("refused") for r in answerable])  # a passage is shown
        m["no_passage_rate"] = 1.0 - m["answer_rate"]
        m["weak_rate"] = _share([r.get("outcome") == "weak" for r in answerable])
    if unanswerable:
        m["refusal_rate"] = _share([bool(r.get("refused")) for r in unanswerable])
        m["no_generation_rate"] = _share([not generated_shown(r) for r in unanswerable])
    m |= correctness_metrics(rows)
    for key, scale, unit in (
        ("retrieval", 1000, "_ms"),
        ("first_token", 1, "_s"),
        ("generation", 1, "_s"),
        ("total", 1, "_s"),
    ):
        values = [r["timings"][key] * scale for r in rows if key in r.get("timings", {})]
        if values:
            m[f"{key}_p50{unit}"] = percentile(values, 50)
            m[f"{key}_p95{unit}"] = percentile(values, 95)
    return m


def generated_shown(row: dict) -> bool:
    """Whether the user is shown generated text: in full mode a verified answer, in retrieval-only
    mode a clear match (the outcome on which the pipeline would generate)."""
    if row.get("mode") == "full":
        return bool(row.get("verified")) and not row.get("refused")
    return row.get("outcome", "refused" if row.get("refused") else "answer") == "answer"


def shown_text(row: dict) -> str:
    """What the user sees as the answer: in full mode the quoted extract and the verified answer
    (`shown`; rows of older runs have only `answer`), in retrieval-only mode the extract (which the
    pipeline shows at once); nothing when the question was refused."""
    if row.get("refused"):
        return ""
    if row.get("mode") == "full":
        return row.get("shown", row.get("answer")) or ""
    return row.get("extract") or ""


def fact_texts(row: dict) -> dict[str, str]:
    """The measured texts of a row that exist in its mode ("generated" only in full mode; nothing in a
    retrieval-only run without an extract)."""
    texts = {}
    if row.get("extract") is not None:
        texts["extract"] = row["extract"]
    if row.get("mode") == "full":
        texts["generated"] = row.get("generated") or ""
    if row.get("mode") == "full" or "extract" in texts:  # retrieval-only runs show the extract
        texts["answer"] = shown_text(row)
    return texts


def key_fact_hits(row: dict) -> dict[str, list[bool]] | None:
    """Per measured text, which key facts it contains; None for rows without key facts (unanswerable
    questions, and gold-section mistakes marked with "key_facts": [])."""
    facts = row.get("key_facts") or []
    if not row.get("answerable", True) or not facts:
        return None
    return {name: [contains_fact(text, f) for f in facts] for name, text in fact_texts(row).items()}


def correctness_metrics(rows: list[dict]) -> dict[str, float]:
    """Key-fact recall/accuracy per measured text, contradicted numbers, verified answers.

    key_fact_accuracy (no suffix) is that of the shown answer; the extract's and the generator's own
    figures carry their suffix. Refused questions count as misses (their answer states no fact).
    """
    m: dict[str, float] = {}
    hits = [h for h in (key_fact_hits(r) for r in rows) if h is not None]
    if hits:
        m["key_fact_questions"] = len(hits)
    for name in FACT_TEXTS:
        per_question = [h[name] for h in hits if name in h]
        if not per_question or len(per_question) < len(hits):
            continue
        recall = _mean([sum(found) / len(found) for found in per_question])
        accuracy = _share([all(found) for found in per_question])
        m[f"key_fact_recall_{name}"] = recall
        m[f"key_fact_accuracy_{name}"] = accuracy
        if name == "answer":
            m["key_fact_recall"], m["key_fact_accuracy"] = recall, accuracy
    checked = [r for r in rows if "contradicted" in r]
    for name in FACT_TEXTS:
        counts = [len(r["contradicted"][name]) for r in checked if name in r["contradicted"]]
        if counts:
            m["contradicted_numbers" + ("" if name == "answer" else f"_{name}")] = sum(counts)
    answered = [r for r in checked if not r.get("refused")]
    if answered:
        m["answers_without_contradiction"] = _share([not r["contradicted"].get("answer") for r in answered])
    full = [r for r in rows if r.get("mode") == "full" and not r.get("refused") and "verified" in r]
    if full:
        m["verified_rate"] = _share([bool(r["verified"]) for r in full])
    return m


def fact_report(row: dict) -> dict | None:
    """One question's correctness, for the report: key facts missing from the shown answer and from
    the extract, contradicted numbers of the shown answer; None when there is nothing to report on."""
    hits = key_fact_hits(row) or {}
    contradicted = row.get("contradicted", {}).get("answer", [])
    if not hits and not contradicted:
        return None
    facts = row.get("key_facts") or []

    def missing(name: str) -> list[str]:
        return [f for f, ok in zip(facts, hits.get(name, []), strict=False) if not ok]

    found = hits.get("answer", [])
    return {
        "recall": sum(found) / len(found) if found else None,
        "missing": missing("answer"),
        "missing_extract": missing("extract"),
        "contradicted": contradicted,
    }


def worst_questions(rows: list[dict], n: int = 15) -> list[tuple[dict, dict]]:
    """Questions whose shown answer lacks key facts or states unsupported numbers, worst first."""
    out = []
    for r in rows:
        rep = fact_report(r)
        if rep and (rep["missing"] or rep["contradicted"]):
            out.append((r, rep))
    out.sort(
        key=lambda pair: (
            pair[1]["recall"] if pair[1]["recall"] is not None else 1.0,
            -len(pair[1]["contradicted"]),
        )
    )
    return out[:n]


def misses(rows: list[dict], k: int = 5) -> list[dict]:
    """Questions that failed: gold section not in the top k, or a wrong refusal / missing refusal."""
    out = []
    for r in rows:
        if r.get("answerable", True):
            doc_rank, sec_rank = first_rank(r, "doc"), first_rank(r, "section")
            if sec_rank is None or sec_rank > k or r.get("refused"):
                out.append(r | {"doc_rank": doc_rank, "section_rank": sec_rank})
        elif not r.get("refused"):
            out.append(r | {"doc_rank": None, "section_rank": None})
    return out


def parse_thresholds(specs: list[str]) -> dict[str, float]:
    out = {}
    for spec in specs:
        name, sep, value = spec.partition("=")
        if not sep:
            raise ValueError(f"expected METRIC=VALUE, got {spec!r}")
        out[name.strip()] = float(value)
    return out


def failed_thresholds(metrics: dict[str, float], thresholds: dict[str, float]) -> list[str]:
    failures = []
    for name, minimum in thresholds.items():
        if name not in metrics:
            failures.append(f"{name}: metric not computed in this run")
        elif not metrics[name] >= minimum:
            failures.append(f"{name} = {metrics[name]:.3f} < {minimum}")
    return failures


def _share(flags: list[bool]) -> float:
    return sum(flags) / len(flags) if flags else 0.0


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0
