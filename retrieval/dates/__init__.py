"""Time in retrieval: the clock, date expressions in questions, publication dates of articles, their display."""
