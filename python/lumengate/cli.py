"""The ``lumengate`` command line."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from lumengate import __version__, available_cpus


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lumengate", description="lumengate command line")
    parser.add_argument("--version", action="version", version=f"lumengate {__version__}")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("info", help="show the version and the CPUs batch calls may use")
    fake = sub.add_parser(
        "fake-gemini",
        help="serve a fake Gemini API on 127.0.0.1 until Ctrl-C (prints the base URL)",
    )
    fake.add_argument("--port", type=int, default=8765, help="port to bind; 0 picks a free one")
    fake.add_argument("--tls", action="store_true", help="serve HTTPS with a throwaway CA")
    fake.add_argument("--api-key", default=None, help="the only API key accepted (default: any)")
    args = parser.parse_args(argv)
    if args.command == "info":
        print(f"lumengate {__version__}; batch calls may use {available_cpus()} CPUs")
        return 0
    if args.command == "fake-gemini":
        return _fake_gemini(args.port, args.tls, args.api_key)
    parser.print_help()
    return 0


def _fake_gemini(port: int, tls: bool, api_key: str | None) -> int:
    from lumengate.testing import FakeGemini

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with FakeGemini(port=port, tls=tls, api_key=api_key) as fake:
        print(f"fake Gemini serving on {fake.url}", flush=True)
        if tls:
            print(f"CA certificate: {fake.ca_path}", flush=True)
        try:
            while not stop.wait(0.2):
                pass
        except KeyboardInterrupt:
            pass
    print("fake Gemini stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
