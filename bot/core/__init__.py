"""The answer loop and what it depends on: events, prompts, language, the generation worker and the Protocols of its seams."""
