"""report.md and report.html (with matplotlib plots) for an eval run, and baseline deltas."""

from __future__ import annotations

import base64
import io
import math
import statistics
from html import escape
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from .gate_calibration import SETTING, current_rates, signal_values, suggest, suggest_or_gate
from .metrics import KS, misses, worst_questions

HEADLINE = [
    "hit@1", "hit@3", "hit@5", "hit@10", "mrr",
    "section_hit@1", "section_hit@3", "section_hit@5", "section_hit@10", "section_mrr",
    "page_hit@1", "page_hit@3", "page_hit@5", "page_hit@10", "page_mrr",
    "citation_precision", "citation_precision_section", "answers_with_citation", "answer_rate", "no_passage_rate",
    "weak_rate", "refusal_rate", "no_generation_rate",
    "key_fact_accuracy", "key_fact_recall", "key_fact_accuracy_extract", "key_fact_recall_extract",
    "key_fact_accuracy_generated", "key_fact_recall_generated", "contradicted_numbers",
    "contradicted_numbers_generated", "contradicted_numbers_extract", "answers_without_contradiction",
    "verified_rate",
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


def _plot_key_facts(metrics: dict) -> str | None:
    labels = {"extract": "Fundstelle", "generated": "Generiert", "answer": "Angezeigt"}
    names = [n for n in labels if f"key_fact_accuracy_{n}" in metrics]
    if not names:
        return None
    fig, ax = plt.subplots(figsize=(6, 3.2))
    x = range(len(names))
    ax.bar([i - 0.2 for i in x], [metrics[f"key_fact_recall_{n}"] for n in names], width=0.4, label="Recall")
    ax.bar(
        [i + 0.2 for i in x],
        [metrics[f"key_fact_accuracy_{n}"] for n in names],
        width=0.4,
        label="alle Fakten",
    )
    ax.set_xticks(list(x), [labels[n] for n in names])
    ax.set_ylim(0, 1)
    ax.set_ylabel("Anteil Fragen")
    ax.set_title("Kernfakten in der Antwort")
    ax.legend(loc="lower right")
    return _png(fig)


def _plot_gate(values: dict[str, tuple[list[float], list[float]]], lines: dict[str, float]) -> str | None:
    values = {k: v for k, v in values.items() if v[0] or v[1]}
    if not values:
        return None
    fig, axes = plt.subplots(1, len(values), figsize=(3.2 * len(values), 3.2), squeeze=False)
    for ax, (name, (pos, neg)) in zip(axes[0], values.items(), strict=True):
        for i, (group, color) in enumerate(((pos, "#2b5d8a"), (neg, "#b5452b"))):
            jitter = [i + 0.25 * ((k * 0.618) % 1 - 0.5) for k in range(len(group))]
            ax.scatter(jitter, group, s=14, color=color, alpha=0.8)
        if name in lines:
            ax.axhline(lines[name], color="#555", linestyle="--", linewidth=1)
        ax.set_xticks([0, 1], ["beantwortbar", "nicht beantw."])
        ax.set_xlim(-0.6, 1.6)
        ax.set_title(name)
    fig.suptitle("Signale der Relevanzschranke (gestrichelt: Vorschlag)")
    fig.tight_layout()
    return _png(fig)


def gate_section(rows: list[dict]) -> tuple[list[str], str, dict[str, float]]:
    """Markdown lines, HTML and suggested thresholds (signal → value) of the gate calibration."""
    values = signal_values(rows)
    if not any(pos and neg for pos, neg in values.values()):
        return [], "", {}
    md = ["", "## Kalibrierung der Relevanzschranke", ""]
    if rates := current_rates(rows):
        md += [f"Diese Einstellung: {rates[0]:.0%} der beantwortbaren Fragen zugelassen, "
               f"{rates[1]:.0%} der nicht beantwortbaren abgelehnt.", ""]  # fmt: skip
    vetoed = [r for r in rows if (r.get("gate") or {}).get("foreign")]
    if vetoed:
        n_neg = sum(1 for r in rows if not r.get("answerable", True))
        hits = sum(1 for r in vetoed if not r.get("answerable", True))
        words = ", ".join(sorted({w for r in vetoed for w in r["gate"]["foreign"]}))
        md += [f"Themen-Veto (seltenes Substantiv, das in keinem Dokument vorkommt): {hits} von {n_neg} "
               f"nicht beantwortbaren und {len(vetoed) - hits} beantwortbare Fragen abgelehnt ({words}). "
               "Die Schwellen unten gelten für die übrigen Fragen.", ""]  # fmt: skip
    md += [
        "| Signal | beantwortbar min / Median / max | nicht beantwortbar min / Median / max "
        "| Vorschlag (≥ 75 % abgelehnt) | Youden |",
        "|---|---|---|---|---|",
    ]
    lines: dict[str, float] = {}
    for name, (pos, neg) in values.items():
        cells = [_spread(pos), _spread(neg)]
        suggestions = {t.rule: t for t in suggest(name, pos, neg)}
        for rule in ("refusal", "youden"):
            t = suggestions.get(rule)
            cells.append(
                f"{'≥' if t.higher_passes else '≤'} {t.threshold:.3f} (beantwortet {t.answered:.0%}, "
                f"abgelehnt {t.refused:.0%})"
                if t
                else "–"
            )
        if "refusal" in suggestions:
            lines[name] = suggestions["refusal"].threshold
        md.append(f"| {name} | " + " | ".join(cells) + " |")
    if pair := suggest_or_gate(rows):
        settings = ", ".join(
            f"`{SETTING.get(s, s)} = {t:.3f}`" for s, t in zip(pair.signals, pair.thresholds, strict=True)
        )
        md += [
            "",
            f"Schranke wie gebaut (ein Signal genügt): {settings} — beantwortet {pair.answered:.0%}, "
            f"abgelehnt {pair.refused:.0%}. Auf einem zweiten Frage-Set prüfen, bevor sie übernommen wird.",
        ]
        lines |= dict(zip(pair.signals, pair.thresholds, strict=True))
    plot = _plot_gate(values, lines)
    html = _md_table_html(md[2:])
    if plot:
        html += f'<img src="data:image/png;base64,{plot}" alt="Signale der Relevanzschranke nach Fragetyp">'
    return md, "<h2>Kalibrierung der Relevanzschranke</h2>" + html, lines


def correctness_section(rows: list[dict]) -> tuple[list[str], str]:
    worst = worst_questions(rows)
    if not worst:
        return [], ""
    md = [
        "",
        f"## Schwächste Antworten ({len(worst)})",
        "",
        "| id | Frage | fehlende Kernfakten | fehlt auch in Fundstelle | Zahlen ohne Quelle | angezeigte Antwort |",
        "|---|---|---|---|---|---|",
    ]
    for r, rep in worst:
        shown = " ".join((r.get("answer") if r.get("mode") == "full" else r.get("extract") or "").split())
        if r.get("refused"):
            shown = "(abgelehnt)"
        cells = [
            r["id"],
            r["question"],
            "; ".join(rep["missing"]) or "–",
            "; ".join(rep["missing_extract"]) or "–",
            "; ".join(rep["contradicted"]) or "–",
            shown[:160] + ("…" if len(shown) > 160 else ""),
        ]
        md.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return md, f"<h2>Schwächste Antworten ({len(worst)})</h2>" + _md_table_html(md[3:])


def _spread(values: list[float]) -> str:
    if not values:
        return "–"
    return f"{min(values):.3f} / {statistics.median(values):.3f} / {max(values):.3f}"


def _md_table_html(lines: list[str]) -> str:
    """Markdown paragraphs and one pipe table (its header line first) as HTML, in their order."""
    parts: list[str] = []
    table: list[list[str]] = []
    for line in [*lines, ""]:
        if line.startswith("|"):
            if not line.startswith("|---"):
                table.append([c.strip() for c in line.strip().strip("|").split(" | ")])
            continue
        if table:
            head = "".join(f"<th>{escape(c)}</th>" for c in table[0])
            body = "".join(
                "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in table[1:]
            )
            parts.append(f"<table><tr>{head}</tr>{body}</table>")
            table = []
        if line.strip():
            parts.append(f"<p>{escape(line.replace('`', ''))}</p>")
    return "".join(parts)


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
    fact_md, fact_html = correctness_section(rows)
    gate_md, gate_html, _ = gate_section(rows)
    md += fact_md + gate_md
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
    if facts_png := _plot_key_facts(metrics):
        imgs += f'<img src="data:image/png;base64,{facts_png}" alt="Anteil der Fragen mit allen Kernfakten">'
    html = (
        f'<!doctype html><html lang="de"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        "<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #999;padding:.2rem .5rem;text-align:left}</style></head><body><main>"
        f"<h1>{escape(title)}</h1><table><caption>Kennzahlen</caption>{rows_html}</table>{imgs}"
        f"<h2>Fehlschläge ({len(missed)})</h2><table><tr><th>id</th><th>Frage</th><th>Soll</th>"
        f"<th>Rang Dok.</th><th>Rang §</th></tr>{miss_html}</table>{fact_html}{gate_html}</main></body></html>"
    )
    html_path = out / "report.html"
    html_path.write_text(html, encoding="utf-8")
    return md_path, html_path
