"""`switchboard`: validate specs, translate a request, print the support table, serve.

Every command prints an OpenAI-shaped error (or a spec error with file and location)
and exits non-zero on bad input; no traceback reaches the user.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence

from .errors import SwitchboardError


def _load(args: argparse.Namespace) -> Any:
    from .switchboard import load
    return load(args.root)


def cmd_validate(args: argparse.Namespace) -> int:
    from .links import check_links
    sb = _load(args)
    problems = check_links(sb)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    examples = sum(len(sb.files.raw(n).get("examples", [])) for n in sb.files.names())
    print(f"ok: {len(sb.providers)} providers, {len(sb.dialects)} with specs, "
          f"{len(sb.files.names())} spec files, {examples} examples, "
          f"{len(sb.matrix.features)} features, {len(sb.matrix.params)} parameters")
    return 1 if problems else 0


def cmd_translate(args: argparse.Namespace) -> int:
    sb = _load(args)
    text = sys.stdin.read() if args.file in (None, "-") else Path(args.file).read_text()
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        print(json.dumps({"error": {"message": f"request is not valid JSON: {exc}", "type":
                          "invalid_request_error", "param": None, "code": "invalid_json"}}))
        return 2
    options = dict(o.split("=", 1) for o in args.option or ())
    req = sb.translate_request(args.provider, body, model=args.model, options=options,
                               policy=args.policy)
    print(json.dumps({"method": req.method, "url": req.url, "headers": req.headers,
                      "body": req.json, "reports": req.reports}, indent=2, ensure_ascii=False))
    return 0


def cmd_table(args: argparse.Namespace) -> int:
    from .table import matrix_data, render_html, render_markdown
    data = matrix_data(_load(args))
    if args.format == "json":
        print(json.dumps(data, indent=2, ensure_ascii=False))
    elif args.format == "html":
        print(render_html(data, params=args.params), end="")
    else:
        print(render_markdown(data, params=args.params), end="")
    return 0


def cmd_spec(args: argparse.Namespace) -> int:
    import yaml
    sb = _load(args)
    name = sb.providers.get(args.provider, {}).get("spec") or args.provider
    spec = sb.files.resolved(name) if args.resolved else sb.files.raw(name)
    print(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=100), end="")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .server_main import serve
    return serve(args)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="switchboard", description=__doc__)
    p.add_argument("--root", help="directory with providers.yaml, capabilities.yaml and specs/")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("validate", help="check every spec and table").set_defaults(fn=cmd_validate)
    t = sub.add_parser("translate", help="print the HTTP request that would be sent")
    t.add_argument("provider")
    t.add_argument("file", nargs="?", help="OpenAI request JSON (default: stdin)")
    t.add_argument("--model", help="model id (default: the request's model)")
    t.add_argument("--policy", choices=["refuse", "drop"], default="refuse")
    t.add_argument("--option", action="append", help="account option key=value (e.g. region=eu-west-1)")
    t.set_defaults(fn=cmd_translate)
    tb = sub.add_parser("table", help="print the provider x feature support table")
    tb.add_argument("--format", choices=["md", "html", "json"], default="md")
    tb.add_argument("--params", action="store_true", help="the parameter table instead of features")
    tb.set_defaults(fn=cmd_table)
    s = sub.add_parser("spec", help="print a spec (merged through extends with --resolved)")
    s.add_argument("provider")
    s.add_argument("--resolved", action="store_true")
    s.set_defaults(fn=cmd_spec)
    sv = sub.add_parser("serve", help="run the gateway")
    sv.add_argument("--host", default="127.0.0.1")
    sv.add_argument("--port", type=int, default=8787)
    sv.add_argument("--config", help="gateway config YAML (accounts, keys)")
    sv.add_argument("--emulate", action="store_true", help="serve against the built-in emulated providers")
    sv.add_argument("--workers", type=int, default=1)
    sv.set_defaults(fn=cmd_serve)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.fn(args)
    except SwitchboardError as exc:
        print(json.dumps(exc.to_openai(), ensure_ascii=False), file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
