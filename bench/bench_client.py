"""Client overhead: CPU seconds per 10,000 sign-ins listed from the emulator (1,000 per page).

The emulator runs in its own process, so the two CPU figures are separate: the client's (this
process: our code plus requests, TLS and JSON decoding) and the emulator's (serving the pages).
A profiled extra round says how much of the client's time is spent in ``commands/graph`` itself.

    .venv/bin/python bench/bench_client.py [--records 10000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from commands.graph.client import GraphClient  # noqa: E402
from commands.graph.settings import GraphSettings  # noqa: E402
from executor.redaction import Redactor  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from emulator_process import EmulatorProcess  # noqa: E402


def list_all(client: GraphClient) -> int:
    count = 0
    for page in client.iter_pages("auditLogs/signIns", {"$top": 1000}):
        count += len(page["value"])
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    emulator = EmulatorProcess(args.records)
    try:
        settings = GraphSettings.from_connection(emulator.connection)
        with GraphClient(settings, redactor=Redactor(), pace=False) as client:
            client.token_info()  # the token and the TLS session are not what we measure
            assert list_all(client) == args.records  # warm-up round
            rounds = []
            for _ in range(args.rounds):
                server_before, started = emulator.cpu(), time.perf_counter()
                client_before = time.process_time()
                listed = list_all(client)
                client_cpu = time.process_time() - client_before
                wall = time.perf_counter() - started
                server_cpu = emulator.cpu() - server_before
                scale = 10_000 / listed
                rounds.append((client_cpu * scale, server_cpu * scale, wall * scale))
            profile = cProfile.Profile(time.process_time)  # CPU, not time spent waiting
            profile.runcall(list_all, client)
    finally:
        emulator.stop()

    shares = profile_shares(profile)
    client_cpu, server_cpu, wall = (statistics.median(r[i] for r in rounds) for i in range(3))
    print(f"Listing {args.records:,} sign-ins, 1,000 per page, over HTTPS; median of "
          f"{args.rounds} rounds, per 10,000 records:\n")
    rows = [("client CPU (this process); profiled shares:", client_cpu)]
    rows += [(f"  {name}", client_cpu * share) for name, share in shares]
    rows += [("emulator CPU (its own process)", server_cpu), ("wall clock", wall)]
    print(f"| {'measure':<48} | {'seconds':>8} |")
    print(f"|{'-' * 50}|{'-' * 10}|")
    for name, seconds in rows:
        print(f"| {name:<48} | {seconds:8.3f} |")


CATEGORIES = (
    ("commands/graph (our code)", ("commands/graph/",)),
    ("JSON decoding", ("json/", "_json", "scanner", "msgspec", "orjson", "executor/jsonfast")),
    ("TLS", ("ssl.py", "_ssl")),
    ("HTTP (requests, urllib3)", ("requests/", "urllib3/", "http/client",
                                               "socket", "email/", "idna")),
    ("MSAL", ("msal/",)),
)


def profile_shares(profile: cProfile.Profile) -> list[tuple[str, float]]:
    """Share of the profiled time (own time of each function) per category."""
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    totals = dict.fromkeys([name for name, _ in CATEGORIES] + ["other"], 0.0)
    for (filename, _, function), row in stats.items():
        where = f"{filename.replace(chr(92), '/')} {function}"
        name = next((n for n, marks in CATEGORIES if any(m in where for m in marks)), "other")
        totals[name] += row[2]
    whole = sum(totals.values()) or 1.0
    return [(name, seconds / whole) for name, seconds in totals.items()]

if __name__ == "__main__":
    main()
