"""The method catalogue of the web app and the checking of option values sent by a browser.

Options come from each method's signature (:attr:`MethodInfo.options`), exactly as for the
CLI; values sent as JSON are turned into the CLI's ``name=value`` text and typed by
:func:`inpaintkit.options.parse_options`, so both accept the same values with the same
messages. Three things differ from the CLI because a request must never name a file:

* ``callback``, ``progress`` and ``device`` are set by the server, never by a request;
* ``model`` must be one of the installed models' names (never a path);
* ``data`` (the ``nearest`` method's training folder) must be one of the names the server was
  started with (``inpaintkit serve --data NAME=DIR``); the server substitutes the folder.

Any other text value that looks like a path is refused.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from inpaintkit.errors import InpaintError
from inpaintkit.options import parse_options
from inpaintkit.registry import MethodInfo, get_method, list_methods
from inpaintkit.signatures import OptionInfo
from inpaintkit.web.jobs import takes_callback

#: options the server fills in itself; a request may not set them.
SERVER_OPTIONS = frozenset({"callback", "progress", "device"})
#: bounds of the ``options`` JSON field: 4xx beyond them, before anything is parsed deeply.
MAX_OPTIONS_CHARS = 16_384
MAX_OPTIONS_DEPTH = 3  # {"name": [1, 2]} is depth 2
MAX_OPTIONS_KEYS = 64
MAX_OPTION_TEXT = 1_000  # characters of one text value (and of one option name)
MAX_OPTION_ITEMS = 64  # items of one list value
MAX_OPTION_NUMBER = 1e12  # magnitude of one number


def installed_models(name: str) -> list[str]:
    """Names of the models installed for method ``name`` (empty when it uses none)."""
    try:
        from inpaintkit.weights import installed_for
    except ImportError:  # pragma: no cover - weights is part of the package
        return []
    return list(installed_for(name))


def default_model(name: str) -> str | None:
    """The model method ``name`` runs when a request names none (the library's default)."""
    from inpaintkit.weights import default_model as library_default

    return library_default(name)


def option_kind(opt: OptionInfo) -> str:
    """``bool``, ``int``, ``float`` or ``str``: the form control an option needs."""
    if opt.default is not None:
        for kind in (bool, int, float):  # bool first: True is an int too
            if isinstance(opt.default, kind):
                return kind.__name__
        return "str"
    for name in ("bool", "int", "float"):
        if name in opt.annotation:
            return name
    return "str"


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return value if isinstance(value, str | int | float | bool | type(None) | list) else repr(value)


def describe_method(info: MethodInfo, *, data_dirs: Mapping[str, Path]) -> dict[str, Any]:
    """One method as JSON: what it is, what it needs, installed models, its web options."""
    names = {o.name for o in info.options}
    needs_model = "model" in names or info.kind in ("latent-search", "feed-forward")
    models = installed_models(info.name) if needs_model else []
    options = []
    for opt in info.options:
        if opt.name in SERVER_OPTIONS:
            continue
        choices: list[Any] | None = list(opt.choices) if opt.choices else None
        if opt.name == "model" and needs_model:
            choices = models
        elif opt.name == "data":
            choices = sorted(data_dirs)
        options.append(
            {
                "name": opt.name,
                "type": option_kind(opt),
                "default": _jsonable(opt.default),
                "nullable": opt.default is None or "None" in opt.annotation,
                "annotation": opt.annotation,
                "help": opt.help,
                "choices": choices,
            }
        )
    return {
        "name": info.name,
        "kind": info.kind,
        "summary": info.summary,
        "needs": info.needs,
        "paper": info.paper,
        "max_pixels": info.max_pixels,
        "needs_model": needs_model,
        "models": models,
        "default_model": default_model(info.name) if needs_model else None,
        "ready": not needs_model or bool(models),
        "reports_progress": takes_callback(info),
        "options": options,
    }


def describe_methods(*, data_dirs: Mapping[str, Path]) -> list[dict[str, Any]]:
    """Every public method (``list_methods()`` order) as :func:`describe_method` JSON."""
    return [describe_method(m, data_dirs=data_dirs) for m in list_methods()]


def json_depth(text: str) -> int:
    """Deepest nesting of ``[``/``{`` in JSON ``text`` (strings skipped), without parsing it."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string, escaped = True, False
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def parse_options_json(text: str | None) -> dict[str, Any]:
    """The ``options`` form field: a JSON object (empty or missing = no options).

    Raises:
        InpaintError: not a JSON object, or over the bounds above (size, depth, keys).
    """
    if text is None or not text.strip():
        return {}
    example = 'options must be a JSON object such as {"radius": 5}'
    if len(text) > MAX_OPTIONS_CHARS:
        raise InpaintError(f"{example}, at most {MAX_OPTIONS_CHARS} characters")
    if json_depth(text) > MAX_OPTIONS_DEPTH:
        raise InpaintError(f"{example}: nested at most {MAX_OPTIONS_DEPTH} levels deep")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise InpaintError(f"{example}: {e.msg} at character {e.pos}") from None
    except (ValueError, RecursionError) as e:  # e.g. a number of more than 4300 digits
        raise InpaintError(f"{example}: {' '.join(str(e).split())[:200]}") from None
    if not isinstance(value, dict):
        raise InpaintError(example)
    if len(value) > MAX_OPTIONS_KEYS:
        raise InpaintError(f"{example}, with at most {MAX_OPTIONS_KEYS} options")
    return value


def _scalar_ok(value: Any) -> bool:
    if isinstance(value, str):
        return len(value) <= MAX_OPTION_TEXT
    if isinstance(value, bool):
        return True
    if isinstance(value, int | float):
        return math.isfinite(value) and abs(value) <= MAX_OPTION_NUMBER
    return False


def _as_text(name: str, value: Any) -> str:
    """A JSON value as the CLI's text form (typed later by parse_options)."""
    if len(name) > MAX_OPTION_TEXT:
        raise InpaintError(f"option names are at most {MAX_OPTION_TEXT} characters")
    what = (
        f"option {name!r} must be a number (finite, |x| <= {MAX_OPTION_NUMBER:g}), text "
        f"(<= {MAX_OPTION_TEXT} characters), true/false, null or a list of up to "
        f"{MAX_OPTION_ITEMS} of these"
    )
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        if not _scalar_ok(value):
            raise InpaintError(what)
        return str(value)
    scalars = isinstance(value, list) and len(value) <= MAX_OPTION_ITEMS
    if scalars and all(_scalar_ok(v) and not isinstance(v, bool) for v in value):
        return ",".join(str(v) for v in value)
    raise InpaintError(what)


def _looks_like_path(text: str) -> bool:
    return any(c in text for c in "/\\") or text.startswith(("~", ".")) or ":" in text


def web_options(
    method: str, raw: Mapping[str, Any], *, data_dirs: Mapping[str, Path]
) -> dict[str, Any]:
    """Check and type the options a request gives ``method``.

    Args:
        method: a registered method name (unknown names raise with the known ones).
        raw: option name -> JSON value (text, number, true/false, null or a list).
        data_dirs: the server's named data folders (for a ``data`` option).

    Returns:
        Keyword options for :func:`inpaintkit.api.inpaint`.

    Raises:
        InpaintError: unknown method or option, server-owned option, bad value, a model that
            is not installed, an unknown data name, or a value that looks like a path.
    """
    info = get_method(method)
    for name in raw:
        if name in SERVER_OPTIONS:
            raise InpaintError(f"option {name!r} is set by the server and cannot be sent")
    pairs = [f"{name}={_as_text(name, value)}" for name, value in raw.items()]
    options = parse_options(info, pairs)
    if options.get("model") is not None:
        installed = installed_models(method)
        if options["model"] not in installed:
            listed = ", ".join(installed) or "none"
            raise InpaintError(
                f"no {method} model {options['model']!r} is installed on this server "
                f"(installed: {listed})"
            )
    if options.get("data") is not None:
        if options["data"] not in data_dirs:
            listed = ", ".join(sorted(data_dirs)) or "none; start it with --data NAME=DIR"
            raise InpaintError(
                f"unknown data folder {options['data']!r}; this server's folders: {listed}"
            )
        options["data"] = str(data_dirs[options["data"]])
    for name, value in options.items():
        if name != "data" and isinstance(value, str) and _looks_like_path(value):
            raise InpaintError(f"option {name!r} cannot name a file or folder over the web")
    return options


def check_model_installed(method: str, options: Mapping[str, Any]) -> None:
    """Fail before queueing when ``method`` needs a model file and none is installed.

    Raises:
        InpaintError: the library's "needs a trained model and none is installed" message.
    """
    try:
        from inpaintkit.registry import find_family
        from inpaintkit.weights import resolve_model
    except ImportError:  # pragma: no cover
        return
    if find_family(method) is not None and options.get("model") is None:
        resolve_model(method, None)  # raises with the install hint when nothing fits
