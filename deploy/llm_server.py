"""Start `python -m llama_cpp.server` with llama.cpp's weight repacking off on CPUs with Intel AMX (llama.cpp issue #20824).

llama-cpp-python's server has no setting for ``use_extra_bufts``, and on an AMX CPU its first decode crashes, so this
launcher applies the same patch as newsbot's in-process generator, then hands every other argument to the server:

    python deploy/llm_server.py --model MODEL.gguf --host 127.0.0.1 --port 8080 --n_ctx 4096
    python deploy/llm_server.py --repack on ...   # force repacking on (default: auto, off only on AMX CPUs)

It also defaults ``--interrupt_requests`` to False: the server's default ends a streaming answer whenever any other
request arrives, a token count included.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> None:
    """Pop ``--repack auto|on|off``, then run llama_cpp.server's own main() with the rest."""
    from bot.backends.llama import _weight_repacking, cpu_has_amx

    mode = "auto"
    if "--repack" in argv:
        i = argv.index("--repack")
        mode = argv[i + 1] if i + 1 < len(argv) else ""
        del argv[i : i + 2]
    if mode not in ("auto", "on", "off"):
        sys.exit("llm_server: --repack takes auto, on or off")
    repack = not cpu_has_amx() if mode == "auto" else mode == "on"
    if not any(a.startswith("--interrupt_requests") for a in argv):
        # By default the server ends a streaming answer whenever another request arrives (a tokenize call included).
        argv += ["--interrupt_requests", "False"]
    from llama_cpp.server.__main__ import main as server_main

    sys.argv = [sys.argv[0], *argv]
    with _weight_repacking(repack):  # the server loads its model inside main(); keep the patch for later reloads too
        server_main()


if __name__ == "__main__":
    main(sys.argv[1:])
