"""The seed articles: what the chat indexes on its first run (only the article files are read)."""
