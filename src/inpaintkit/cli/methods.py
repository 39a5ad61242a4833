"""``inpaintkit methods``: what exists, what it needs, what is installed, its options."""

from __future__ import annotations

import argparse
import json


def add_methods_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``inpaintkit methods``."""
    p = sub.add_parser(
        "methods",
        help="list the inpainting methods, what they need and what is installed",
        description="List every registered method: kind, needs, installed models, options.",
        epilog="examples:\n  inpaintkit methods\n  inpaintkit methods --json\n"
        "  inpaintkit methods --options tv",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--options", metavar="METHOD", help="show one method's options in detail")
    p.set_defaults(func=methods_command)


def installed_models(name: str) -> list[str]:
    """Model names installed for method ``name`` (empty for methods that need none)."""
    try:
        from inpaintkit.weights import installed_for
    except ImportError:
        return []
    return list(installed_for(name))


def method_rows() -> list[dict]:
    """One dict per method: name, kind, summary, needs, installed, options."""
    from inpaintkit.registry import list_methods

    rows = []
    for m in list_methods():
        needs_model = bool(m.models) or m.kind in ("latent-search", "feed-forward")
        models = installed_models(m.name) if needs_model else []
        rows.append(
            {
                "name": m.name,
                "kind": m.kind,
                "summary": m.summary,
                "needs": m.needs,
                "paper": m.paper,
                "needs_model": needs_model,
                "installed": (", ".join(models) or "no model installed") if needs_model else "yes",
                "models": models,
                "max_pixels": m.max_pixels,
                "options": {o.name: _jsonable(o.default) for o in m.options},
            }
        )
    return rows


def _jsonable(v: object) -> object:
    return v if isinstance(v, str | int | float | bool | type(None) | list) else repr(v)


def methods_command(args: argparse.Namespace) -> int:
    """Handler of ``inpaintkit methods``."""
    rows = method_rows()
    if args.options:
        from inpaintkit.registry import get_method

        info = get_method(args.options)
        print(f"{info.name} ({info.kind}): {info.summary}")
        if info.paper:
            print(f"paper: {info.paper}")
        print(f"needs: {info.needs}")
        for o in info.options:
            print(f"  --opt {o.name}=...   default {o.default!r}  ({o.annotation})")
        return 0
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    w = max(len(r["name"]) for r in rows)
    k = max(len(r["kind"]) for r in rows)
    print(f"{'name':<{w}}  {'kind':<{k}}  installed  summary")
    for r in rows:
        print(f"{r['name']:<{w}}  {r['kind']:<{k}}  {r['installed']:<9}  {r['summary']}")
        if r["needs"] != "nothing":
            print(f"{'':<{w}}  {'':<{k}}  {'':<9}  needs: {r['needs']}")
    return 0
