"""``inpaintkit methods``: what exists, what it needs, what is installed, its options."""

from __future__ import annotations

import argparse
import json

from inpaintkit.errors import InpaintError


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
    """Model names installed for method ``name`` (its family's files; a method's family has
    its name), found without importing any method."""
    from inpaintkit.weights import list_model_files

    return list_model_files(name)


def method_rows() -> list[dict]:
    """One dict per method: name, kind, summary, needs, installed and default model, options.

    Read from the method catalogue (:mod:`inpaintkit.catalog`), so no method is imported.
    """
    from inpaintkit.catalog import method_entries
    from inpaintkit.weights import pick_default

    rows = []
    for m in method_entries():
        needs_model = m["uses_models"] or m["kind"] in ("latent-search", "feed-forward")
        models = installed_models(m["name"]) if m["uses_models"] else []
        rows.append(
            {
                "name": m["name"],
                "kind": m["kind"],
                "summary": m["summary"],
                "needs": m["needs"],
                "paper": m["paper"],
                "needs_model": needs_model,
                "installed": (", ".join(models) or "no model installed") if needs_model else "yes",
                "models": models,
                "default_model": pick_default(m["default_model"], models),
                "max_pixels": m["max_pixels"],
                "options": m["options"],
            }
        )
    return rows


def option_lines(row: dict) -> list[str]:
    """``NAME=CHOICES  help (default X)`` per option of a :func:`method_rows` row."""
    lines = []
    for o in row["options"]:
        if o["name"] == "model" and row["needs_model"]:
            value = "|".join(row["models"]) or "NAME"
            default = row["default_model"] or "none installed"
        else:
            value = "|".join(map(str, o["choices"])) if o["choices"] else o["annotation"]
            default = (
                json.dumps(o["default"]) if not isinstance(o["default"], str) else o["default"]
            )
        lines.append(f"  {o['name']}={value}")
        lines.append(f"      {o['help'] or '(no description)'} (default: {default})")
    return lines


def methods_command(args: argparse.Namespace) -> int:
    """Handler of ``inpaintkit methods``."""
    rows = method_rows()
    if args.options:
        row = next((r for r in rows if r["name"] == args.options), None)
        if row is None:
            known = ", ".join(sorted(r["name"] for r in rows))
            raise InpaintError(f"unknown method {args.options!r}; known methods: {known}")
        print(f"{row['name']} ({row['kind']}): {row['summary']}")
        if row["paper"]:
            print(f"paper: {row['paper']}")
        print(f"needs: {row['needs']}")
        if row["needs_model"]:
            print(f"model: {row['default_model'] or 'none installed'} by default; "
                  f"installed: {row['installed']}")  # fmt: skip
        print(
            "options (inpaintkit run ... --opt NAME=VALUE):" if row["options"] else "options: none"
        )
        print("\n".join(option_lines(row)))
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
        if r["default_model"]:
            print(f"{'':<{w}}  {'':<{k}}  {'':<9}  runs model {r['default_model']} by default")
    return 0
