"""report.md and report.html (with matplotlib plots) for an eval run, and baseline deltas."""

from __future__ import annotations

import base64
import io
import math
from html import escape
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from .metrics import KS, misses

HEADLINE = [
    "hit@1", "hit@3", "hit@5", "hit@10", "mrr",
    "section_hit@1", "section_hit@3", "section_hit@5", "section_hit@10", "section_mrr",
    "citation_precision", "citation_precision_section", "answers_with_citation", "answer_rate", "refusal_rate",
    "retrieval_p50_ms", "retrieval_p95_ms", "first_token_p50_s", "first_token_p95_s",
    "generation_p50_s", "generation_p95_s", "total_p50_s", "total_p95_s",
]  # fmt: skip


def fmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def deltas(current: dict, baseline: dict) -> list[tuple[str, float, float, float]]:
    return [
        (k, baseline[k], current[k], current[k] - baseline[k])
        for k in HEADLINE
        if k in current and k in baseline
    ]


def _plot_hits(metrics: dict) -> str:
    fig, ax = plt.subplots(figsize=(6, 3.2))
    x = range(len(KS))
    ax.bar([i - 0.2 for i in x], [metrics[f"hit@{k}"] for k in KS], width=0.4, label="Dokument")
    ax.bar([i + 0.2 for i in x], [metrics[f"section_hit@{k}"] for k in KS], width=0.4, label="Abschnitt (§)")
    ax.set_xticks(list(x), [f"hit@{k}" for k in KS])
    ax.set_ylim(0, 1)
    ax.set_ylabel("Anteil Fragen")
    ax.set_title("Trefferquote der Suche")
    ax.legend(loc="lower right")
    return _png(fig)


def _plot_latency(rows: list[dict]) -> str | None:
    series = {
        "Suche (ms)": [r["timings"]["retrieval"] * 1000 for r in rows if "retrieval" in r["timings"]],
        "Antwort gesamt (s)": [r["timings"]["total"] for r in rows if "total" in r["timings"]],
    }
    series = {k: v for k, v in series.items() if v}
    if not series:
        return None
    fig, axes = plt.subplots(1, len(series), figsize=(6, 3), squeeze=False)
    for ax, (label, values) in zip(axes[0], series.items(), strict=True):
        ax.hist(values, bins=15, color="#2b5d8a")
        ax.set_title(label)
        ax.set_ylabel("Fragen")
    fig.tight_layout()
    return _png(fig)


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def write_reports(
    out: Path, rows: list[dict], metrics: dict, title: str, baseline: dict | None = None
) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    missed = misses(rows)
    md = [f"# {title}", "", f"{metrics['questions']} Fragen, davon {metrics['answerable']} beantwortbar.", ""]
    md += ["| Kennzahl | Wert |", "|---|---|"]
    md += [f"| {k} | {fmt(metrics[k])} |" for k in HEADLINE if k in metrics]
    if baseline:
        md += [
            "",
            "## Vergleich mit der Basislinie",
            "",
            "| Kennzahl | Basis | Jetzt | Δ |",
            "|---|---|---|---|",
        ]
        md += [f"| {k} | {fmt(b)} | {fmt(c)} | {d:+.3f} |" for k, b, c, d in deltas(metrics, baseline)]
    md += [
        "",
        f"## Fehlschläge ({len(missed)})",
        "",
        "| id | Frage | Soll | Rang Dok. | Rang § | Top-Treffer |",
    ]
    md += ["|---|---|---|---|---|---|"]
    for r in missed:
        gold = f"{r['doc']} {r['section']}" if r.get("answerable", True) else "(nicht beantwortbar)"
        top = r["retrieved"][0] if r["retrieved"] else None
        top_text = f"{top['doc']} › {top['section'].split(' › ')[-1]}" if top else "–"
        if r.get("refused"):
            top_text = "abgelehnt; " + top_text
        md.append(
            f"| {r['id']} | {r['question'].replace('|', '/')} | {gold} | {fmt(r['doc_rank'])} "
            f"| {fmt(r['section_rank'])} | {top_text.replace('|', '/')} |"
        )
    md_path = out / "report.md"
    md_path.write_text("\n".join(md) + "\n", encoding="utf-8")

    hits_png = _plot_hits(metrics)
    latency_png = _plot_latency(rows)
    rows_html = "".join(
        f"<tr><th scope='row'>{escape(k)}</th><td>{fmt(metrics[k])}</td></tr>"
        for k in HEADLINE
        if k in metrics
    )
    miss_html = "".join(
        f"<tr><td>{escape(r['id'])}</td><td>{escape(r['question'])}</td>"
        f"<td>{escape(str(r.get('doc') or '–'))} {escape(str(r.get('section') or ''))}</td>"
        f"<td>{fmt(r['doc_rank'])}</td><td>{fmt(r['section_rank'])}</td></tr>"
        for r in missed
    )
    imgs = f'<img src="data:image/png;base64,{hits_png}" alt="Trefferquote nach Dokument und Abschnitt">'
    if latency_png:
        imgs += f'<img src="data:image/png;base64,{latency_png}" alt="Verteilung der Antwortzeiten">'
    html = (
        f'<!doctype html><html lang="de"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        "<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #999;padding:.2rem .5rem;text-align:left}</style></head><body><main>"
        f"<h1>{escape(title)}</h1><table><caption>Kennzahlen</caption>{rows_html}</table>{imgs}"
        f"<h2>Fehlschläge ({len(missed)})</h2><table><tr><th>id</th><th>Frage</th><th>Soll</th>"
        f"<th>Rang Dok.</th><th>Rang §</th></tr>{miss_html}</table></main></body></html>"
    )
    html_path = out / "report.html"
    html_path.write_text(html, encoding="utf-8")
    return md_path, html_path
