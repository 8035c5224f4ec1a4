"""Prompt names to audio files: prompts stored by admins first, then the standard set."""

from __future__ import annotations

from pathlib import Path

from media import Prompt, PromptError, PromptLibrary
from prompts.catalog import STANDARD_DIR


class PromptResolver:
    def __init__(self, custom_dir: Path, standard_dir: Path = STANDARD_DIR) -> None:
        self.custom_dir = custom_dir
        self.library = PromptLibrary(standard_dir)

    def resolve(self, name: str, lang: str) -> Prompt:
        """``name`` in ``lang``: a stored prompt (``<custom>/<name>.wav``, or per language
        ``<custom>/<lang>/<name>.wav``) wins over the standard prompt of the same name."""
        for candidate in (self.custom_dir / lang / f"{name}.wav", self.custom_dir / f"{name}.wav"):
            if candidate.is_file():
                return Prompt(candidate)
        return Prompt(self.library.path(name, lang))

    def resolve_all(self, names: list[str], lang: str) -> list[Prompt]:
        return [self.resolve(n, lang) for n in names]

    def number(self, n: int, lang: str) -> list[Prompt]:
        return self.library.number(n, lang)

    def duration(self, seconds: float, lang: str) -> list[Prompt]:
        return self.library.duration(seconds, lang)


__all__ = ["PromptError", "PromptResolver"]
