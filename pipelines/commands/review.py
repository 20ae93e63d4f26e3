"""``newswatch review serve``: the review desk (:mod:`desk`) over a review store."""

from __future__ import annotations

import argparse
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from pipelines.commands.common import CliError

__all__ = ["HELP", "NAME", "add_arguments", "bind_socket", "run"]

NAME = "review"
HELP = "serve the review desk: flagged items in a browser, with one-key decisions"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = "The review desk: work through flagged items in a browser."
    sub = parser.add_subparsers(dest="review_command", required=True, metavar="SUBCOMMAND")
    serve = sub.add_parser(
        "serve",
        help="serve the desk over a review store",
        description=(
            "Serve the review desk over a review store (filled by `newswatch consume` or "
            "`newswatch replay --store`). Binds to 127.0.0.1 unless told otherwise; any other "
            "address needs --token or an authenticating proxy (--identity_header)."
        ),
    )
    serve.add_argument("--store", required=True, metavar="FILE", help="review store (SQLite)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", default="8080", help="TCP port (default 8080; 0: any free port)")
    serve.add_argument(
        "--reviewer",
        default=None,
        metavar="NAME",
        help="name decisions are recorded under (default: $NEWSWATCH_REVIEWER, else the login)",
    )
    serve.add_argument(
        "--identity_header",
        default=None,
        metavar="H",
        help="header an authenticating proxy sets to the reviewer's name (required on requests)",
    )
    serve.add_argument(
        "--token",
        default=None,
        metavar="T",
        help="shared secret every request must present (open /?token=T once; 16+ characters)",
    )
    serve.add_argument(
        "--archive", default=None, metavar="DIR", help="directory of the WARC files items cite"
    )


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (IPv4 or IPv6).

    Raises:
        OSError: the address cannot be bound (in use, not local).
    """
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def run(args: argparse.Namespace, extra: Sequence[str]) -> int:
    if extra:
        raise CliError(f"unrecognised arguments: {' '.join(extra)}")
    import sqlite3

    from desk.config import (
        DeskConfig,
        check_bind,
        check_header_name,
        check_port,
        default_reviewer,
        is_loopback,
    )

    try:
        port = check_port(args.port)
        header = check_header_name(args.identity_header)
        check_bind(args.host, args.token, header)
        reviewer = default_reviewer(args.reviewer)
        store = Path(args.store)
        if not store.is_file():
            raise ValueError(
                f"no review store at {args.store!r}: fill one with `newswatch replay PATH... "
                "--store FILE` or `newswatch consume`"
            )
        archive = Path(args.archive) if args.archive else None
        if archive is not None and not archive.is_dir():
            raise ValueError(f"--archive must be a directory (got {args.archive!r})")
    except ValueError as exc:
        raise CliError(str(exc)) from None

    import uvicorn

    from desk import create_app

    config = DeskConfig(
        store=store,
        archive=archive,
        reviewer=reviewer,
        identity_header=header,
        token=args.token or None,
        loopback_only=is_loopback(args.host),
    )
    try:
        app = create_app(config)
        sock = bind_socket(args.host, port)
    except sqlite3.DatabaseError as exc:
        raise CliError(f"{args.store}: not a review store this version can open: {exc}") from None
    except OSError as exc:
        raise CliError(f"cannot listen on {args.host}:{port}: {exc}") from None
    bound = sock.getsockname()
    shown = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
    who = f"reviewer from the {header} header" if header else f"reviewer {reviewer}"
    if config.loopback_only:
        access = "this machine only"
    else:
        guards = [g for g, on in (("token", config.token), (f"{header} header", header)) if on]
        access = f"reachable from other machines: every request needs the {' and '.join(guards)}"
    print(
        f"newswatch review: {store} on http://{shown}:{bound[1]}/ ({who}; {access}); Ctrl-C stops",
        file=sys.stderr,
        flush=True,
    )
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    )
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then raises the signal
    # again: both end here as a clean exit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    print("newswatch review: stopped", file=sys.stderr, flush=True)
    return 0
