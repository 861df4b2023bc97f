"""The Jinja2 environment: autoescape, StrictUndefined, gettext."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from dhpc_gen.i18n import Boilerplate
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


def install_boilerplate(env: jinja2.Environment, words: Boilerplate) -> None:
    """Make ``_()``, ``gettext()`` and ``ngettext()`` print ``words``' phrases as text.

    Jinja's own gettext marks a translation safe HTML where output is escaped, and
    %-formats it: an override typed as ``<a href=…>`` became a live link, and "50 %"
    stopped the build. Here a phrase gets what every text field gets — the small safe
    markup, escaping, values put in by name — in HTML templates, and plain text in the
    others (the e-mail's text part and subject).
    """

    @jinja2.pass_context
    def gettext(context: jinja2.runtime.Context, message: str, **variables: Any) -> Markup | str:
        if context.eval_ctx.autoescape:
            return words.html(message, **variables)
        return words.text(message, **variables)

    @jinja2.pass_context
    def ngettext(
        context: jinja2.runtime.Context, singular: str, plural: str, n: int, **variables: Any
    ) -> Markup | str:
        if context.eval_ctx.autoescape:
            return words.nhtml(singular, plural, n, **variables)
        return words.ntext(singular, plural, n, **variables)

    env.globals.update(gettext=gettext, _=gettext, ngettext=ngettext)
    # {% trans %} blocks then pass their values as keywords, formatted here, not by Jinja.
    env.newstyle_gettext = True  # type: ignore[attr-defined]
