"""The prompt templates, plain text files loaded at start-up (see bot.core.prompting)."""
