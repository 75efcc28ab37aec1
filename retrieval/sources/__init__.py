"""News sources: the safe fetcher, article extraction, feeds and the watched inbox folder."""
