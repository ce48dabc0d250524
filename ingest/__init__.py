"""Loading, chunking and indexing of documents."""
