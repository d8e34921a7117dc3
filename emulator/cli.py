"""`emulator` verb: serve the local Graph tenant until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import yaml

from emulator import faults
from emulator.app import CLI_APPS, Emulator, is_loopback


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="emulator",
        description="Serve a local Microsoft Graph (Entra ID Protection, sign-in logs) and "
                    "token endpoint over HTTPS on loopback.",
    )
    p.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    p.add_argument("--port", type=int, default=0, help="port (0 picks a free one)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--tenants", type=int, default=1)
    p.add_argument("--signins", type=int, default=5000, help="sign-ins per tenant")
    p.add_argument("--now", help="pin the emulator clock's start (ISO 8601)")
    p.add_argument("--frozen", action="store_true", help="the clock does not tick by itself")
    p.add_argument("--token-lifetime", type=int, default=3600, metavar="S")
    p.add_argument("--behaviour", metavar="JSON", default="{}",
                   help='behaviour switches, as POST /_emulator/behaviour takes them, e.g. '
                        '\'{"paging": "keyset", "licence": "P1"}\'')
    p.add_argument("--app", choices=CLI_APPS, default="full",
                   help="the app the connection files name: full (every role), readonly, none "
                        "(no roles), cert (certificate), expired (a secret that has expired)")
    p.add_argument("--write-connection", metavar="FILE",
                   help="write a YAML connection file (tenant 0) once serving")
    p.add_argument("--write-connections", metavar="DIR",
                   help="write one connection file per tenant: DIR/tenant-0.yaml, ...")
    g = p.add_argument_group("faults (Dev Proxy style; each has a POST /_emulator/faults twin)")
    g.add_argument("--fault-rate", type=float, default=0.0, metavar="R")
    g.add_argument("--fault-statuses", metavar="429,503")
    g.add_argument("--fault-retry-after", metavar="S|date|none")
    g.add_argument("--fault-latency-ms", metavar="MIN,MAX")
    g.add_argument("--fault-drop-rate", type=float, default=0.0, metavar="R")
    g.add_argument("--fault-seed", type=int, default=0, metavar="N")
    g.add_argument("--fault-path", metavar="REGEX")
    g.add_argument("--fault-max", type=int, metavar="N",
                   help="stop injecting after N faults")
    g.add_argument("--fault-after-handler", action="store_true",
                   help="inject after the request was processed (state already changed)")
    g.add_argument("--rate-limits", action="store_true",
                   help="enforce Graph's per-tenant service limits")
    return p


def fault_body(args: argparse.Namespace) -> dict[str, Any]:
    """The control-API body equivalent to the --fault-* flags."""
    body: dict[str, Any] = {"rate": args.fault_rate, "drop_rate": args.fault_drop_rate,
                            "seed": args.fault_seed}
    if args.fault_statuses:
        body["statuses"] = [int(s) for s in args.fault_statuses.split(",") if s.strip()]
    if args.fault_retry_after is not None:
        value = args.fault_retry_after.strip().lower()
        if value == "none":
            body["retry_after"] = None
        elif value.startswith("date"):
            body["retry_after"] = value
        else:
            body["retry_after"] = float(value)
    if args.fault_latency_ms:
        low, _, high = args.fault_latency_ms.partition(",")
        body["latency_ms"] = [int(low), int(high or low)]
    if args.fault_path:
        body["path"] = args.fault_path
    if args.fault_max is not None:
        body["max_faults"] = args.fault_max
    if args.fault_after_handler:
        body["after_handler"] = True
    body["rate_limits"] = args.rate_limits
    return body


CONNECTION_KEYS = ("server_url", "auth_url", "client_id", "client_secret", "certificate_path",
                   "certificate_thumbprint", "ca_bundle", "tenant_id")


def write_connection(emu: Emulator, path: Path, app: str = "full", tenant: int = 0) -> None:
    """A YAML connection file, with copies of the CA (and the app's certificate) beside it
    that outlive the emulator's temporary directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = emu.cli_app(app, tenant)
    ca_copy = path.with_name(path.stem + ".ca.pem")
    shutil.copyfile(emu.ca_bundle, ca_copy)
    conn["ca_bundle"] = str(ca_copy.resolve())
    if "certificate_path" in conn:
        pem_copy = path.with_name(path.stem + ".cert.pem")
        _write_private(pem_copy, Path(conn["certificate_path"]).read_text(encoding="ascii"))
        conn["certificate_path"] = str(pem_copy.resolve())
    text = yaml.safe_dump({k: conn[k] for k in CONNECTION_KEYS if k in conn},
                          sort_keys=False, allow_unicode=True)
    _write_private(path, text)


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, atomically."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def write_connections(emu: Emulator, directory: Path, app: str = "full") -> list[Path]:
    """One connection file per tenant: directory/tenant-0.yaml, tenant-1.yaml, ..."""
    paths = [directory / f"tenant-{n}.yaml" for n in range(len(emu.tenants))]
    for n, path in enumerate(paths):
        write_connection(emu, path, app, n)
    return paths


def main(argv: list[str]) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if not is_loopback(args.host):
        print(f"emulator: refusing to bind {args.host}: loopback only (127.0.0.1, ::1, "
              "localhost)", file=sys.stderr)
        return 2
    try:
        body = fault_body(args)
        faults.parse_config({k: v for k, v in body.items() if k != "rate_limits"})
        emu = Emulator(seed=args.seed, tenants=args.tenants, signins=args.signins,
                       now=args.now, frozen=args.frozen, token_lifetime=args.token_lifetime,
                       host=args.host, port=args.port, faults=body,
                       rate_limits=args.rate_limits, behaviour=json.loads(args.behaviour))
    except (ValueError, faults.FaultConfigError) as exc:
        print(f"emulator: {exc}", file=sys.stderr)
        return 2

    stop = threading.Event()
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: stop.set())
    try:
        emu.start()
        # Park the tenant's long-lived objects outside the collector's reach: every page
        # allocates thousands of short-lived ones, and full collections would rescan them all.
        gc.freeze()
        print(f"emulator: serving {emu.base_url} (tenant {emu.tenant_ids[0]}, "
              f"CA {emu.ca_bundle})", file=sys.stderr, flush=True)
        if args.write_connection:
            write_connection(emu, Path(args.write_connection), args.app)
            print(f"emulator: connection written to {args.write_connection}", file=sys.stderr,
                  flush=True)
        if args.write_connections:
            written = write_connections(emu, Path(args.write_connections), args.app)
            print(f"emulator: {len(written)} connection files written to "
                  f"{args.write_connections}", file=sys.stderr, flush=True)
        while not stop.wait(0.5):
            pass
    except OSError as exc:
        print(f"emulator: {exc}", file=sys.stderr)
        return 1
    finally:
        emu.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("emulator: stopped", file=sys.stderr, flush=True)
    return 0
