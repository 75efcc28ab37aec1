"""Where the index lives: the SQLite catalog with its FTS5 lexical index, the Chroma vector store, and the data-directory lock."""
