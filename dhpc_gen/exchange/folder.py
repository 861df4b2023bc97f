"""What the formats in and out read from a content folder besides the file they write."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from dhpc_gen.content.loader import META_FILE, read_yaml, validate_model
from dhpc_gen.content.model import DhpcMeta, LanguageText
from dhpc_gen.errors import ContentError, Problem, display_path

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class ContentFolder:
    """What export and import read from ``content/<id>/`` besides the target file."""

    directory: Path
    meta: DhpcMeta
    source: LanguageText
    source_path: Path


def validated(model: type[M], path: Path) -> M:
    """Read one YAML file into ``model`` or raise :class:`ContentError` with every problem."""
    shown = display_path(path)
    if not path.is_file():
        raise ContentError([Problem(shown, "", "missing")])
    data, problems = read_yaml(path, shown)
    if data is None:
        raise ContentError(problems)
    valid, problems = validate_model(model, data, shown)
    if valid is None:
        raise ContentError(problems)
    return valid


def read_folder(directory: Path) -> ContentFolder:
    """``dhpc.yaml`` and the source language file, each valid on its own."""
    if not directory.is_dir():
        raise ContentError([Problem(display_path(directory), "", "no such content folder")])
    meta = validated(DhpcMeta, directory / META_FILE)
    source_path = directory / f"{meta.source_language}.yaml"
    return ContentFolder(directory, meta, validated(LanguageText, source_path), source_path)
