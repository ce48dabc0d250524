"""The store: the SQLite catalog (collections, files, chunks, runs, sentences, the BM25 index) and the
vector store (Chroma); its public methods are the only way to read or write them."""
