"""The interactive CLI chat: streamed answers, line editing and history, follow-ups, and slash commands."""

from __future__ import annotations

import sys
from typing import TextIO

from bot.core.events import Cancel, Done, Queued, Token
from bot.core.prompting import Turn
from bot.cli.render import print_final, print_sources
from bot.hints import explain
from bot.settings import Settings
from retrieval.errors import InputError, NewsbotError

HELP = """Ask a question about the articles, in French or English. Follow-up questions use the conversation.
  /sources  the sources of the last answer
  /reset    forget the conversation
  /help     this help
  /quit     leave (or Ctrl-D)"""


def _setup_readline(history_file) -> None:
    """Line editing and a persistent history when stdin is a terminal."""
    try:
        import readline
    except ImportError:  # not on every platform
        return
    try:
        readline.read_history_file(history_file)
    except OSError:
        pass
    readline.set_history_length(1000)
    import atexit

    atexit.register(lambda: _save_history(readline, history_file))


def _save_history(readline, history_file) -> None:
    """Write the history file, ignoring a read-only data directory."""
    try:
        readline.write_history_file(history_file)
    except OSError:
        pass


def _confirm(question: str) -> bool:
    """Ask yes/no on the terminal."""
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes", "o", "oui")
    except EOFError:
        return False


def run_chat(settings: Settings, stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    """Open the index, load the model, and chat until /quit or end of input."""
    from bot.app import load_generator, open_index

    stdin = stdin or sys.stdin
    out = out or sys.stdout
    interactive = stdin.isatty()
    index = open_index(settings)
    try:
        notice = lambda msg: out.write(f"note: {msg}\n")  # noqa: E731
        load = lambda: load_generator(settings, interactive=interactive, confirm=_confirm if interactive else None, notice=notice)  # noqa: E731
        return chat(settings, index, load, stdin, out)
    finally:
        index.close()


def chat(settings: Settings, index, load_generator, stdin: TextIO, out: TextIO) -> int:
    """Chat over an open index (ingesting seeds/ when it is empty) with the generator ``load_generator()`` returns."""
    from bot.app import build_answerer
    from bot.resources import seeds_dir

    interactive = stdin.isatty()
    if index.catalog.counts()[1] == 0 and seeds_dir().is_dir():
        out.write(f"First run: indexing the seed articles in {seeds_dir()} …\n")
        report = index.indexer.ingest([seeds_dir()])
        out.write(f"{report.documents} articles, {report.chunks} passages.\n")
    generator = load_generator()
    answerer = build_answerer(settings, index, generator)
    if interactive:
        _setup_readline(str(settings.data_dir / "chat_history"))
    docs, chunks = index.catalog.counts()
    out.write(f"newsbot — {docs} articles, {chunks} passages, model {generator.name}. /help for help.\n")
    out.flush()
    return _loop(answerer, settings, stdin, out, interactive)


def _loop(answerer, settings: Settings, stdin: TextIO, out: TextIO, interactive: bool) -> int:
    """Read questions and answer them; Ctrl-C stops the current answer, Ctrl-D or /quit leaves."""
    history: list[Turn] = []
    last: Done | None = None
    try:
        while True:
            try:
                line = input("> ") if interactive else _read_line(stdin, out)
            except EOFError:
                out.write("\n")
                return 0
            except KeyboardInterrupt:
                out.write("\n")
                continue
            command = line.strip()
            if not command:
                continue
            if command in ("/quit", "/exit", "/q"):
                return 0
            if command == "/help":
                out.write(HELP + "\n")
            elif command == "/reset":
                history.clear()
                last = None
                out.write("Conversation forgotten.\n")
            elif command == "/sources":
                if last and last.sources:
                    print_sources(last.sources, out)
                else:
                    out.write("No sources yet: ask a question first.\n")
            elif command.startswith("/"):
                out.write(f"Unknown command {command.split()[0]}; /help lists the commands.\n")
            else:
                done = _ask(answerer, command, history, out)
                if done is not None:
                    last = done
                    if not done.abstained and not done.cancelled:
                        history.append(Turn(done.question, done.said))
                        del history[: max(0, len(history) - settings.history_turns)]
            out.flush()
    finally:
        answerer.close()


def _read_line(stdin: TextIO, out: TextIO) -> str:
    """One line from a non-terminal stdin, echoed after the prompt so the transcript reads like a session."""
    line = stdin.readline()
    if not line:
        raise EOFError
    out.write(f"> {line.rstrip()}\n")
    return line


def _ask(answerer, question: str, history: list[Turn], out: TextIO) -> Done | None:
    """Stream one answer to ``out``; Ctrl-C stops it at the next token."""
    cancel = Cancel()
    done = None
    streamed: list[str] = []
    try:
        for event in answerer.answer_sync(question, history, cancel):
            if isinstance(event, Queued):
                out.write(f"({event.ahead} questions ahead of you)\n")
            elif isinstance(event, Token):
                streamed.append(event.text)
                out.write(event.text)
                out.flush()
            elif isinstance(event, Done):
                done = event
    except KeyboardInterrupt:
        cancel.set()
        out.write("\n[stopped]\n")
        return None
    except InputError as exc:
        out.write(f"{exc}.\n")
        return None
    except NewsbotError as exc:
        out.write(f"error: {explain(exc)}\n")
        return None
    print_final(done, "".join(streamed), out)
    return done
