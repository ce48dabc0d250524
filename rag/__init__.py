"""Retrieval, generation and citation checking."""
