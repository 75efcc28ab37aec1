"""llama.cpp in this process through llama-cpp-python: a GGUF model behind the Generator Protocol (bot.core.ports)."""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path
from typing import Iterator, Sequence

from bot.core.ports import Usage
from retrieval.errors import ModelError


class LlamaGenerator:
    """A GGUF model run by llama.cpp; the chat template comes from the GGUF file. Not thread-safe: one worker owns it."""

    def __init__(
        self, path: Path, *, n_ctx: int, n_threads: int | None, n_gpu_layers: int, temperature: float, repack: bool | None = None
    ) -> None:
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.name = path.name
        self.path = path
        self.n_ctx = n_ctx
        self.temperature = temperature
        if repack is None:
            repack = not cpu_has_amx()
        try:
            with _weight_repacking(repack):
                # Repacked weights are copies: with the file mapped too, its pages stay resident beside them (measured
                # with the 1.1 GB stand-in: 1,878 MB RSS mapped, 1,288 MB read into memory, 1,282 MB unrepacked).
                # The prompt is read on as many threads as the answer is written (llama-cpp-python's own default for the
                # prompt is every logical CPU, which ignored NEWSBOT_N_THREADS for most of an answer's time).
                self._llm = Llama(
                    model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads,
                    n_gpu_layers=n_gpu_layers, use_mmap=not repack, verbose=False,
                )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(f"{path}: llama.cpp cannot load this model ({str(exc).splitlines()[0][:160]})") from exc
        meta = self._llm.metadata
        template = meta.get("tokenizer.chat_template")
        if not template:
            raise ModelError(f"{path}: the GGUF file has no chat template; use an instruct model")
        vocab = self._llm._model
        eos = self._detok(vocab.token_eos())
        bos = self._detok(vocab.token_bos())
        self._formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos, stop_token_ids=[vocab.token_eos()])

    def _detok(self, token: int) -> str:
        """The text of a special token ('' when the model has none)."""
        if token < 0:
            return ""
        return self._llm.detokenize([token], special=True).decode("utf-8", errors="ignore")

    def prompt_tokens(self, messages: Sequence[dict]) -> tuple[list[int], list[str]]:
        """The prompt's tokens under the model's chat template, and its stop strings."""
        result = self._formatter(messages=list(messages))
        tokens = self._llm.tokenize(result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True)
        stop = result.stop if isinstance(result.stop, list) else [result.stop] if result.stop else []
        return tokens, stop

    def stream(self, messages: Sequence[dict], max_tokens: int, cancel: threading.Event, usage: Usage) -> Iterator[str]:
        """Stream a completion; llama.cpp reuses the longest shared prefix (the system prompt) of the previous prompt."""
        tokens, stop = self.prompt_tokens(messages)
        usage.prompt_tokens = len(tokens)
        if len(tokens) + max_tokens > self.n_ctx:
            max_tokens = max(1, self.n_ctx - len(tokens))
        pieces = self._llm.create_completion(
            prompt=tokens, max_tokens=max_tokens, temperature=self.temperature, stop=stop, stream=True
        )
        try:
            for chunk in pieces:
                if cancel.is_set():
                    break
                text = chunk["choices"][0]["text"]
                usage.completion_tokens += 1
                if text:
                    yield text
        finally:
            pieces.close()

    def count_tokens(self, text: str) -> int:
        """Token count with the model's own tokenizer."""
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def reset(self) -> None:
        """Forget the evaluated prefix, so the next prompt is processed from scratch (benchmarks)."""
        self._llm.reset()

    def raw_speed(self, tokens: list[int], n_decode: int) -> tuple[float, float]:
        """llama.cpp's own speed through the low-level eval loop: (prefill tokens/s, decode tokens/s)."""
        self._llm.reset()
        started = time.perf_counter()
        self._llm.eval(tokens)
        prefilled = time.perf_counter()
        for _ in range(n_decode):
            self._llm.eval([self._llm.sample(temp=self.temperature)])
        decoded = time.perf_counter()
        self._llm.reset()
        return len(tokens) / (prefilled - started), n_decode / (decoded - prefilled)

    def close(self) -> None:
        """Free the model."""
        self._llm.close()


def cpu_has_amx() -> bool:
    """Whether this CPU has Intel AMX, whose llama.cpp kernels crash (llama.cpp issue #20824)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as f:
            return any(line.startswith("flags") and " amx_int8" in line for line in f)
    except OSError:
        return False


@contextlib.contextmanager
def _weight_repacking(enabled: bool):
    """Load a model with llama.cpp's extra weight buffers (AMX/repacked kernels) on or off.

    llama-cpp-python does not expose ``use_extra_bufts``, so its default-params function is wrapped while the model loads.
    """
    if enabled:
        yield
        return
    import llama_cpp.llama as llama_module

    original = llama_module.llama_cpp.llama_model_default_params

    def without_extra_buffers():
        params = original()
        params.use_extra_bufts = False
        return params

    with _LOAD_LOCK:
        llama_module.llama_cpp.llama_model_default_params = without_extra_buffers
        try:
            yield
        finally:
            llama_module.llama_cpp.llama_model_default_params = original


_LOAD_LOCK = threading.Lock()
