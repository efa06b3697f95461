"""An open-loop HTTP load generator: requests leave on a fixed schedule, whatever the server does.

    .venv/bin/python -m bench.loadgen URL [--rate 50] [--seconds 20] [--header "Authorization: …"]

A closed-loop tool (``wrk``, ``ab``) waits for each answer before sending the next request, so a
slow server also slows the load and the stall never shows in the percentiles ("coordinated
omission"). Here request *i* is due at ``start + i / rate``; its latency runs from that due
time, not from when it was actually sent, to the last byte of the answer. A request that gets
no answer within ``timeout`` counts as an error and as an infinite latency, so a server that
cannot keep up shows it in p95/p99 instead of hiding it.
"""

from __future__ import annotations

import argparse
import asyncio
import math
from dataclasses import dataclass

import aiohttp


@dataclass(frozen=True)
class LoadResult:
    """Latencies in seconds (``inf`` where no answer came) of one fixed-rate run."""

    rate: float
    seconds: float
    latencies: tuple[float, ...]
    errors: int
    statuses: dict[int, int]
    body_bytes: int

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile over every request sent, failed ones included as ``inf``."""
        ordered = sorted(self.latencies)
        if not ordered:
            return math.nan
        return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]

    @property
    def answered_per_s(self) -> float:
        return (len(self.latencies) - self.errors) / self.seconds


async def _one(session: aiohttp.ClientSession, url: str, due: float, result: list) -> None:
    loop = asyncio.get_running_loop()
    try:
        async with session.get(url) as response:
            body = await response.read()
            result.append((loop.time() - due, response.status, len(body)))
    except (aiohttp.ClientError, TimeoutError):
        result.append((math.inf, 0, 0))


async def _drive(
    url: str, headers: dict[str, str], rate: float, seconds: float, timeout: float
) -> LoadResult:
    loop = asyncio.get_running_loop()
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    answers: list[tuple[float, int, int]] = []
    async with aiohttp.ClientSession(
        connector=connector, timeout=client_timeout, headers=headers
    ) as session:
        start = loop.time() + 0.05
        tasks = []
        for i in range(round(rate * seconds)):
            due = start + i / rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(_one(session, url, due, answers)))
        await asyncio.gather(*tasks)
    statuses: dict[int, int] = {}
    for _, status, _ in answers:
        statuses[status] = statuses.get(status, 0) + 1
    return LoadResult(
        rate=rate,
        seconds=seconds,
        latencies=tuple(
            latency if 200 <= status < 300 else math.inf for latency, status, _ in answers
        ),
        errors=sum(1 for _, status, _ in answers if not 200 <= status < 300),
        statuses=statuses,
        body_bytes=sum(size for _, _, size in answers),
    )


def open_loop(
    url: str,
    *,
    headers: dict[str, str] | None = None,
    rate: float = 50.0,
    seconds: float = 20.0,
    timeout: float = 10.0,
) -> LoadResult:
    """GET ``url`` at ``rate`` requests a second for ``seconds``; latency from the due time."""
    return asyncio.run(_drive(url, headers or {}, rate, seconds, timeout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--header", action="append", default=[], help="NAME: VALUE")
    args = parser.parse_args()
    headers = dict(h.split(":", 1) for h in args.header)
    result = open_loop(
        args.url,
        headers={k.strip(): v.strip() for k, v in headers.items()},
        rate=args.rate,
        seconds=args.seconds,
        timeout=args.timeout,
    )
    print("| rate | requests | p50 ms | p95 ms | p99 ms | errors | answered/s |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    print(
        f"| {result.rate:g}/s | {len(result.latencies)} | {result.percentile(50) * 1e3:.1f} | "
        f"{result.percentile(95) * 1e3:.1f} | {result.percentile(99) * 1e3:.1f} | "
        f"{result.errors} | {result.answered_per_s:.1f} |"
    )


if __name__ == "__main__":
    main()
