"""The Telegram front end: python-telegram-bot handlers over the same answer loop as the CLI."""
