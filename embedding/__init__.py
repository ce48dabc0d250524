"""The embedder: a local model (by setting) or an OpenAI-compatible embeddings server, and that server."""
