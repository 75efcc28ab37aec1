"""The `newsbot` command line: one module per sub-command family, and the terminal rendering."""
