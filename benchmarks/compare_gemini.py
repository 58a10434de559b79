"""The Gemini client against google-genai's async client, both talking to one FakeGemini.

Usage: ``python benchmarks/compare_gemini.py [--clients ours,peer] [--schemes http,tls]
[--concurrency 1,64,512] [--no-rss] [--rss-only]``.

FakeGemini runs in its own process pinned to CPU 0; each client
runs in a fresh worker process pinned to CPU 1, so one client's allocations and imports never
count against the other. Both clients get the same connection limit (``--connections``, 100 by
default) and no retries. Every request asks for an echo of a 24-word prompt and checks that the
answer (or the concatenated stream) is exactly that echo.

Per cell (scheme x unary/stream x concurrency) the table shows:

- client CPU per request: the worker's ``time.process_time()`` delta (every thread of the
  process, the native I/O thread included) over the measured requests, divided by their
  number; the robust measure on a shared machine;
- requests/s: measured requests over wall time (bounded by the single-threaded fake server);
- client overhead p50/p99: each request's latency (call to the response, or to the end of the
  stream) minus the server's own handling time of that request. The server measures it with
  the clock of its ``x-fake-server-time-us`` header, carried on to the last response byte, and
  logs it per request: the same number for both clients, whether or not a client's response
  object exposes HTTP headers.

A separate run sends ``LUMENGATE_BENCH_N`` unary HTTP requests (100 000 by default) at
concurrency 64 and reports the resident set growth between request N/10 and request N.
``LUMENGATE_BENCH_CELL_N`` sets the measured requests per cell (2 000 by default).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from machine import cpu_model

HERE = Path(__file__).resolve().parent
MODEL = "gemini-2.5-flash"
API_KEY = "bench-key"
SERVER_CPU = 0
CLIENT_CPU = 1
WORDS = (
    "the quick brown fox jumps over the lazy dog while seven wise owls count "
    "the silver stars above a quiet harbour at dawn"
).split()


def prompt(index: int) -> str:
    """A 24-word prompt; FakeGemini streams its echo as nine chunks of about three words."""
    return f"request {index}: " + " ".join(WORDS[:22])


def expected(index: int) -> str:
    return "Echo: " + prompt(index)


def rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def pin(cpu: int) -> Callable[[], None]:
    def apply() -> None:
        if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > cpu:
            os.sched_setaffinity(0, {cpu})

    return apply


# ---------------------------------------------------------------------------------- clients
Call = Callable[[int], Awaitable[str]]


class Peer:
    """google-genai's async client with an aiohttp session limited to ``connections``."""

    def __init__(self, url: str, ca_file: str | None, connections: int) -> None:
        import ssl

        from google import genai
        from google.genai import _api_client, types

        context = ssl.create_default_context(cafile=ca_file) if ca_file else None
        self.backend = "httpx"
        options: dict[str, Any] = {
            "base_url": url,
            "retry_options": types.HttpRetryOptions(attempts=1),
        }
        if context is not None:
            # "ssl" is what the aiohttp path reads, "verify" what the httpx path reads.
            options["async_client_args"] = {"ssl": context, "verify": context}
        self.session = None
        if _api_client.has_aiohttp:
            import aiohttp

            # google-genai's own session has no connection limit; this one has ours.
            self.session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=connections, ssl=context or True),
                read_bufsize=_api_client.READ_BUFFER_SIZE,
            )
            options["aiohttp_client"] = self.session
            self.backend = f"aiohttp {importlib.metadata.version('aiohttp')}"
        else:
            import httpx

            limits = httpx.Limits(max_connections=connections)
            options["httpx_async_client"] = httpx.AsyncClient(verify=context or True, limits=limits)
            self.backend = f"httpx {importlib.metadata.version('httpx')}"
        self.client = genai.Client(api_key=API_KEY, http_options=types.HttpOptions(**options))
        self.name = f"google-genai {importlib.metadata.version('google-genai')} ({self.backend})"

    async def unary(self, index: int) -> str:
        response = await self.client.aio.models.generate_content(
            model=MODEL, contents=prompt(index)
        )
        return response.text or ""

    async def stream(self, index: int) -> str:
        stream = await self.client.aio.models.generate_content_stream(
            model=MODEL, contents=prompt(index)
        )
        return "".join([chunk.text or "" async for chunk in stream])

    async def close(self) -> None:
        await self.client.aio.aclose()
        if self.session is not None:
            await self.session.close()


class Ours:
    """lumengate.gemini.Client with ``max_connections=connections``."""

    def __init__(self, url: str, ca_file: str | None, connections: int) -> None:
        from lumengate import gemini

        self.client = gemini.Client(
            api_key=API_KEY,
            base_url=url,
            max_connections=connections,
            ca_file=ca_file,
            retry=gemini.RetryPolicy(max_attempts=1),
        )
        self.backend = "native"
        self.name = f"lumengate {importlib.metadata.version('lumengate')}"

    async def start(self) -> None:
        await self.client.__aenter__()

    async def unary(self, index: int) -> str:
        response = await self.client.generate_content(MODEL, prompt(index))
        return response.text

    async def stream(self, index: int) -> str:
        return "".join(
            [c.text async for c in self.client.stream_generate_content(MODEL, prompt(index))]
        )

    async def close(self) -> None:
        await self.client.__aexit__(None, None, None)


async def make_client(kind: str, url: str, ca_file: str | None, connections: int) -> Any:
    if kind == "peer":
        return Peer(url, ca_file, connections)
    ours = Ours(url, ca_file, connections)
    await ours.start()
    return ours


# ---------------------------------------------------------------------------------- workload
async def drive(
    call: Call,
    requests: int,
    concurrency: int,
    first: int,
    on_done: Callable[[int], None] | None = None,
    record: bool = True,
) -> dict[int, float]:
    """``requests`` calls from ``concurrency`` tasks; returns each request's latency (µs).

    ``record=False`` keeps no latencies, so that the harness's own storage (about 90 bytes a
    request) does not count as the client's memory growth in the RSS run."""
    latencies: dict[int, float] = {}
    next_index = first
    done = 0

    async def worker() -> None:
        nonlocal next_index, done
        while next_index < first + requests:
            index = next_index
            next_index += 1
            started = time.perf_counter()
            text = await call(index)
            if record:
                latencies[index] = (time.perf_counter() - started) * 1e6
            if text != expected(index):
                raise AssertionError(f"request {index}: got {text!r}")
            done += 1
            if on_done is not None:
                on_done(done)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def server_times(log: Path, indices: range) -> dict[int, int]:
    """The server's handling time (µs) of each request in ``indices``, from its timing log."""
    deadline = time.monotonic() + 10
    while True:
        times: dict[int, int] = {}
        with log.open(encoding="ascii") as lines:
            for line in lines:
                index, _, micros = line.partition(" ")
                if micros.endswith("\n"):
                    times[int(index)] = int(micros)
        if all(i in times for i in indices) or time.monotonic() > deadline:
            missing = [i for i in indices if i not in times]
            if missing:
                raise RuntimeError(f"the server logged no time for requests {missing[:5]}...")
            return times
        time.sleep(0.05)


async def run_cells(args: argparse.Namespace) -> list[dict[str, Any]]:
    client = await make_client(args.client, args.url, args.ca, args.connections)
    rows: list[dict[str, Any]] = []
    # Indices carry on from where earlier workers stopped, so each request's time is its own.
    first = args.first
    try:
        for cell in args.cells.split(","):
            mode, concurrency_text = cell.split(":")
            concurrency = int(concurrency_text)
            call = client.unary if mode == "unary" else client.stream
            # Warm-up opens the connections and fills caches outside the measurement.
            await drive(call, max(concurrency, 64), concurrency, first)
            first += max(concurrency, 64)
            gc.collect()
            cpu0, wall0 = time.process_time(), time.perf_counter()
            latencies = await drive(call, args.requests, concurrency, first)
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
            served = server_times(Path(args.log), range(first, first + args.requests))
            overheads = np.asarray([us - served[i] for i, us in latencies.items()])
            first += args.requests
            p50, p99 = np.percentile(overheads, [50, 99])
            rows.append(
                {
                    "client": client.name,
                    "mode": mode,
                    "concurrency": concurrency,
                    "requests": args.requests,
                    "cpu_us": cpu / args.requests * 1e6,
                    "rps": args.requests / wall,
                    "p50_us": float(p50),
                    "p99_us": float(p99),
                    "next": first,
                }
            )
    finally:
        await client.close()
    return rows


async def run_rss(args: argparse.Namespace) -> list[dict[str, Any]]:
    client = await make_client(args.client, args.url, args.ca, args.connections)
    mark = max(args.requests // 10, 1)
    samples: dict[int, int] = {}

    def on_done(done: int) -> None:
        if done in (mark, args.requests):
            gc.collect()
            samples[done] = rss_bytes()

    try:
        await drive(client.unary, args.requests, 64, args.first, on_done, record=False)
    finally:
        await client.close()
    return [
        {
            "client": client.name,
            "requests": args.requests,
            "mark": mark,
            "rss_mark": samples[mark],
            "rss_end": samples[args.requests],
            "next": args.first + args.requests,
        }
    ]


def worker_main(args: argparse.Namespace) -> None:
    rows = asyncio.run(run_rss(args) if args.rss else run_cells(args))
    json.dump(rows, sys.stdout)


# ---------------------------------------------------------------------------------- orchestration
def serve(tls: bool, log_path: str) -> None:
    """FakeGemini that also logs ``index server_us`` per answered request (index from the prompt).

    The time runs from the request's first byte to the last response byte written (for a
    stream, the last event), the same span the client's latency covers; it is the
    ``x-fake-server-time-us`` header's clock carried on to the end of the body.
    """
    import signal
    import threading

    from lumengate.testing import FakeGemini

    log = open(log_path, "a", encoding="ascii", buffering=1)

    class TimedFake(FakeGemini):
        async def _send_reply(self, writer: Any, reply: Any, record: Any, *rest: Any) -> bool:
            keep_alive: bool = await super()._send_reply(writer, reply, record, *rest)
            _serial, started, _close = rest
            text = record.json["contents"][0]["parts"][0]["text"]
            index = int(text.split(":", 1)[0].removeprefix("request "))
            log.write(f"{index} {int((time.perf_counter() - started) * 1e6)}\n")
            return keep_alive

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with TimedFake(tls=tls) as fake:
        print(fake.url, flush=True)
        print(fake.ca_path if tls else "-", flush=True)
        while not stop.wait(0.2):
            pass
    log.close()


class Server:
    """The timed FakeGemini in its own process, pinned to SERVER_CPU."""

    def __init__(self, tls: bool, log: Path) -> None:
        command = [sys.executable, str(Path(__file__).resolve()), "--serve", "--log", str(log)]
        if tls:
            command.append("--tls")
        self.log = log
        self.next_index = 0
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, text=True, preexec_fn=pin(SERVER_CPU)
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()
        ca = self.process.stdout.readline().strip()
        self.ca = None if ca == "-" else ca
        if not self.url.startswith("http"):
            self.stop()
            raise RuntimeError(f"the fake server did not start: {self.url!r}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def run_worker(
    client: str, server: Server, extra: Sequence[str], requests: int, connections: int
) -> list[dict[str, Any]]:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        client,
        "--url",
        server.url,
        "--log",
        str(server.log),
        "--first",
        str(server.next_index),
        "--requests",
        str(requests),
        "--connections",
        str(connections),
        *extra,
    ]
    if server.ca:
        command += ["--ca", server.ca]
    result = subprocess.run(
        command, stdout=subprocess.PIPE, text=True, check=True, preexec_fn=pin(CLIENT_CPU)
    )
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    server.next_index = rows[-1]["next"]
    return rows


def ratio(ours: float | None, peer: float | None) -> str:
    if ours is None or peer is None or peer == 0:
        return "–"
    return f"{ours / peer:.2f}"


def fmt(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def machine_lines(connections: int, cell_n: int) -> list[str]:
    pinned = (os.cpu_count() or 1) >= 2
    return [
        f"- machine: {cpu_model()}, {os.cpu_count()} CPUs, {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}",
        f"- load average (1/5/15 min) at start: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}",
        f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"- FakeGemini in its own process on CPU {SERVER_CPU}, each client in its own process "
        f"on CPU {CLIENT_CPU}" + ("" if pinned else " (not pinned: fewer than 2 CPUs)"),
        f"- {cell_n} measured requests per cell after a warm-up; connection limit "
        f"{connections} for both; no retries",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="ours,peer")
    parser.add_argument("--schemes", default="http,tls")
    parser.add_argument("--modes", default="unary,stream")
    parser.add_argument("--concurrency", default="1,64,512")
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--no-rss", action="store_true", help="skip the RSS growth run")
    parser.add_argument("--rss-only", action="store_true", help="only the RSS growth run")
    parser.add_argument("--worker", choices=("ours", "peer"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--ca", help=argparse.SUPPRESS)
    parser.add_argument("--requests", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--cells", default="", help=argparse.SUPPRESS)
    parser.add_argument("--rss", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tls", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--log", help=argparse.SUPPRESS)
    parser.add_argument("--first", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.tls, args.log)
        return
    if args.worker:
        args.client = args.worker
        worker_main(args)
        return

    cell_n = int(os.environ.get("LUMENGATE_BENCH_CELL_N", "2000"))
    rss_n = int(os.environ.get("LUMENGATE_BENCH_N", "100000"))
    clients = args.clients.split(",")
    cells = [f"{m}:{c}" for m in args.modes.split(",") for c in args.concurrency.split(",")]
    pin(CLIENT_CPU)()
    print("\n".join(machine_lines(args.connections, cell_n)))
    scratch = tempfile.mkdtemp(prefix="lumengate-bench-")
    names: dict[str, str] = {}
    results: dict[tuple[str, str, str, int], dict[str, Any]] = {}
    if not args.rss_only:
        for scheme in args.schemes.split(","):
            server = Server(tls=scheme == "tls", log=Path(scratch) / f"{scheme}.log")
            try:
                for client in clients:
                    extra = ["--cells", ",".join(cells)]
                    for row in run_worker(client, server, extra, cell_n, args.connections):
                        names[client] = row["client"]
                        results[(client, scheme, row["mode"], row["concurrency"])] = row
            finally:
                server.stop()
    rss: dict[str, dict[str, Any]] = {}
    if not args.no_rss:
        server = Server(tls=False, log=Path(scratch) / "rss.log")
        try:
            for client in clients:
                (row,) = run_worker(client, server, ["--rss"], rss_n, args.connections)
                names[client] = row["client"]
                rss[client] = row
        finally:
            server.stop()
    shutil.rmtree(scratch)
    for client in clients:
        print(f"- {client}: {names.get(client, client)}")
    print()

    def get(client: str, key: tuple[str, str, int], field: str) -> float | None:
        row = results.get((client, *key))
        return None if row is None else float(row[field])

    if results:
        print(
            "| scheme | call | concurrent | CPU µs/req ours | peer | ours/peer "
            "| req/s ours | peer | overhead p50 µs ours | peer | p99 µs ours | peer "
            "| p99 ours/peer |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for scheme in args.schemes.split(","):
            for mode in args.modes.split(","):
                for concurrency in map(int, args.concurrency.split(",")):
                    key = (scheme, mode, concurrency)
                    o = {f: get("ours", key, f) for f in ("cpu_us", "rps", "p50_us", "p99_us")}
                    p = {f: get("peer", key, f) for f in ("cpu_us", "rps", "p50_us", "p99_us")}
                    print(
                        f"| {scheme} | {mode} | {concurrency} "
                        f"| {fmt(o['cpu_us'])} | {fmt(p['cpu_us'])} "
                        f"| {ratio(o['cpu_us'], p['cpu_us'])} "
                        f"| {fmt(o['rps'])} | {fmt(p['rps'])} "
                        f"| {fmt(o['p50_us'])} | {fmt(p['p50_us'])} "
                        f"| {fmt(o['p99_us'])} | {fmt(p['p99_us'])} "
                        f"| {ratio(o['p99_us'], p['p99_us'])} |"
                    )
        print()
    if rss:
        print("| client | requests | RSS at N/10 (MiB) | RSS at N (MiB) | growth (MiB) |")
        print("|---|---|---|---|---|")
        for client, row in rss.items():
            growth = (row["rss_end"] - row["rss_mark"]) / 2**20
            print(
                f"| {names[client]} | {row['mark']:,} → {row['requests']:,} "
                f"| {row['rss_mark'] / 2**20:.1f} | {row['rss_end'] / 2**20:.1f} "
                f"| {growth:+.2f} |"
            )
        print()
    print(f"- load average (1/5/15 min) at end: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("- aim (issue 5): ours/peer CPU ≤ 0.33, p99 ours/peer < 1, RSS growth < 5 MiB")


if __name__ == "__main__":
    main()
