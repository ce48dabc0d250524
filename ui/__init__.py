"""The Gradio web UI: a thin shell over rag.AnswerService and ingest.IngestService."""
