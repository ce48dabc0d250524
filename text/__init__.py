"""German text analysis without state: stemming, compound parts, sentence units, legal references,
fact normalisation. Used by ingest, store and rag."""
