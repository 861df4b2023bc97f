"""The Jinja2 environment: autoescape, StrictUndefined, gettext."""

from __future__ import annotations

from pathlib import Path

import jinja2

from dhpc_gen.resources import TEMPLATES_DIR


def make_environment(templates_dir: Path = TEMPLATES_DIR) -> jinja2.Environment:
    """A fresh environment; missing variables are errors, all output is escaped."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        keep_trailing_newline=True,
    )
