"""Catalog schema and ingestion, embedders, vector store, lexical index and hybrid search.

Heavy libraries (torch, sentence-transformers, chromadb) are imported inside the functions
that need them, so importing this package stays instant.
"""
