"""Emulator throughput and memory: is it ever the bottleneck of a client benchmark?

1. Records served per second through paging: full v1.0 sign-ins, 1,000 per page, over HTTPS
   with keep-alive, from an emulator in its own process (the client decodes every page).
2. Peak RSS of an emulator process whose tenant holds 1,000,000 sign-ins, after paging through
   part of it and streaming the ground truth of every id.
3. Shutdown: `Emulator.stop()` with a client's keep-alive connection still open, in process
   (target: under 20 ms; it no longer waits out a poll interval).

    .venv/bin/python bench/bench_emulator.py [--records 200000] [--million 1000000]
                                             [--stops 15] [--only-stop]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emulator_process import EmulatorProcess as BaseEmulatorProcess

from emulator import Emulator


class EmulatorProcess(BaseEmulatorProcess):
    """The emulator process plus a plain requests session holding one token."""

    def __init__(self, records: int) -> None:
        super().__init__(records, pinned=True)
        self.session = requests.Session()
        conn = self.connection
        token = self.session.post(conn["auth_url"], verify=conn["ca_bundle"], data={
            "grant_type": "client_credentials", "client_id": conn["client_id"],
            "client_secret": conn["client_secret"],
            "scope": "https://graph.microsoft.com/.default"}).json()["access_token"]
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, url: str, **params: object) -> requests.Response:
        response = self.session.get(url, headers=self.headers, params=params or None,
                                    verify=self.connection["ca_bundle"])
        response.raise_for_status()
        return response


def page_through(emu: EmulatorProcess, limit: int, **params: object) -> tuple[int, float]:
    """(records, seconds) for paging from the first page until `limit` records."""
    base = emu.connection["server_url"]
    started = time.perf_counter()
    body = emu.get(f"{base}/v1.0/auditLogs/signIns", **params).json()
    count = len(body["value"])
    while count < limit and body.get("@odata.nextLink"):
        body = emu.get(body["@odata.nextLink"]).json()
        count += len(body["value"])
    return count, time.perf_counter() - started


def stop_times(rounds: int) -> list[float]:
    """Seconds each `stop()` took, with one served request's connection still open."""
    out = []
    for _ in range(rounds):
        emu = Emulator(seed=1, signins=200).start()
        session = requests.Session()
        conn = emu.connection()
        session.post(conn["auth_url"], verify=emu.ca_bundle, data={
            "grant_type": "client_credentials", "client_id": conn["client_id"],
            "client_secret": conn["client_secret"],
            "scope": "https://graph.microsoft.com/.default"}).raise_for_status()
        started = time.perf_counter()
        emu.stop()
        out.append(time.perf_counter() - started)
        session.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--million", type=int, default=1_000_000)
    parser.add_argument("--stops", type=int, default=15)
    parser.add_argument("--only-stop", action="store_true", help="measure shutdown only")
    args = parser.parse_args()
    rows: list[tuple[str, str]] = []

    stops = stop_times(args.stops)
    rows += [(f"shutdown, median of {len(stops)} (keep-alive connection open)",
              f"{statistics.median(stops) * 1000:.1f} ms"),
             ("  slowest shutdown", f"{max(stops) * 1000:.1f} ms")]
    if args.only_stop:
        print_rows(rows)
        return

    emu = EmulatorProcess(args.records)
    try:
        page_through(emu, 2000)  # warm-up: TLS session, caches
        cpu_before = emu.cpu()
        count, seconds = page_through(emu, args.records)
        server_cpu = emu.cpu() - cpu_before
        assert count == args.records, count
        rows += [
            (f"sign-ins paged (full v1.0 records, 1,000/page, {count:,})",
             f"{count / seconds:,.0f} rec/s"),
            ("  emulator CPU per 1,000-record page",
             f"{server_cpu / (count / 1000) * 1000:.0f} ms"),
            ("  wall time per page (client decode included)",
             f"{seconds / (count / 1000) * 1000:.0f} ms"),
        ]
        page_through(emu, 20_000)  # the newest 20,000 into the serialisation cache
        count, seconds = page_through(emu, 20_000)
        rows.append(("  the same 20,000 read again (serialisation cache)",
                     f"{count / seconds:,.0f} rec/s"))
        count, seconds = page_through(emu, args.records, **{"$select": "id,createdDateTime"})
        rows.append(("sign-ins paged with $select=id,createdDateTime",
                     f"{count / seconds:,.0f} rec/s"))
    finally:
        emu.stop()

    big = EmulatorProcess(args.million)
    try:
        rows.append((f"startup with {args.million:,} sign-ins",
                     f"{big.startup:.1f} s"))
        count, seconds = page_through(big, 50_000)
        rows.append(("  paging the newest 50,000 of them", f"{count / seconds:,.0f} rec/s"))
        base = big.connection["server_url"]
        window = {"$filter": "createdDateTime ge 2025-02-10T00:00:00Z and "
                             "createdDateTime le 2025-02-10T00:59:59Z"}
        started = time.perf_counter()
        hour = page_through(big, 10**9, **window)[0]
        rows.append((f"  one-hour window ({hour:,} records, binary search)",
                     f"{(time.perf_counter() - started) * 1000:.0f} ms"))
        started = time.perf_counter()
        truth = big.session.get(f"{base}/_emulator/records/signIns",
                                params={"select": "id,createdDateTime"},
                                verify=big.connection["ca_bundle"]).json()["value"]
        assert len(truth) == args.million
        rows.append(("  ground truth of every id (streamed)",
                     f"{time.perf_counter() - started:.1f} s"))
        rows.append((f"peak RSS of the emulator process ({args.million:,} sign-ins)",
                     f"{big.peak_rss_mib():,.0f} MiB"))
    finally:
        big.stop()

    print_rows(rows)


def print_rows(rows: list[tuple[str, str]]) -> None:
    width = max(len(name) for name, _ in rows)
    print(f"| {'measure':<{width}} | {'value':>14} |")
    print(f"|{'-' * (width + 2)}|{'-' * 16}|")
    for name, value in rows:
        print(f"| {name:<{width}} | {value:>14} |")


if __name__ == "__main__":
    main()
