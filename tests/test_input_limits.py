"""Issue 11 cases 10 and 11: input that cost the host, and secrets or environment that leaked.

Each was reproduced before the work on the issue: a 439-byte alias bomb took 50 s and 4.5 GB,
``/dev/zero`` as a certificate exhausted memory, odd bytes printed tracebacks, ``nan`` days were
internal errors, ``${NAME}`` was expanded in dicts from a platform, a proxy password was echoed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from commands.graph.settings import GraphSettings
from executor.connection import resolve_connection
from executor.errors import InvalidInput
from tests.conftest import ROOT
from tests.hostile import HostileGraph, Reply

ALIAS_BOMB = """a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def _cli(*args: str, stdin: str | bytes | None = None, **env: str
         ) -> subprocess.CompletedProcess[str]:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    run = subprocess.run([sys.executable, str(ROOT / "connector.py"), *args], input=data,
                         capture_output=True, timeout=60, cwd=ROOT, env={**os.environ, **env})
    return subprocess.CompletedProcess(run.args, run.returncode, run.stdout.decode(),
                                       run.stderr.decode())


def _error(run: subprocess.CompletedProcess[str]) -> str:
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert "Traceback" not in run.stderr + run.stdout
    return str(json.loads(run.stdout)["errors"][0]["message"])


def test_an_alias_bomb_as_connection_file_is_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "connection.yaml"
    path.write_text(ALIAS_BOMB)
    message = _error(_cli("run", "Test Connection", "--connection", str(path)))
    assert "expands to more than 100,000 YAML nodes" in message and str(path) in message


def test_an_alias_bomb_as_inputs_is_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "inputs.yaml"
    path.write_text(ALIAS_BOMB)
    message = _error(_cli("run", "List Risky Users", "--inputs", str(path), "--emulator"))
    assert message.startswith("--inputs expands to more than")


def test_a_connection_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "connection.yaml"
    path.write_bytes(b"client_id: caf\xe9\n")
    message = _error(_cli("run", "Test Connection", "--connection", str(path)))
    assert message == f"connection file {path} is not UTF-8 text (byte 14 is 0xe9)"


def test_deeply_nested_json_on_map_stdin_is_a_usage_error() -> None:
    message = _error(_cli("map", stdin="[" * 100_000 + "]" * 100_000))
    assert "standard input is nested deeper than 100 levels" in message


def test_certificate_path_dev_zero_is_refused_without_reading_it_all() -> None:
    connection = {"tenant_id": "contoso.onmicrosoft.com", "client_id": "app",
                  "certificate_path": "/dev/zero"}
    with pytest.raises(InvalidInput) as caught:
        GraphSettings.from_connection(connection)
    assert "Certificate Path': /dev/zero is larger than 1,048,576 bytes" in caught.value.message


@pytest.mark.parametrize(("option", "value"), [
    ("--backfill-days", "nan"), ("--backfill-days", "inf"), ("--backfill-days", "1e9"),
    ("--overlap", "signIn=1e20"), ("--overlap", "signIn=nan"), ("--lag", "-1"),
    ("--every", "0"),
])
def test_job_numeric_options_must_be_finite_and_in_range(tmp_path: Path, option: str,
                                                         value: str,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    from commands import job_cli

    verb = "start" if option == "--every" else "run"
    argv = [verb, "--connection", str(tmp_path / "none.yaml"), "--state",
            str(tmp_path / "state.db"), "--sink", str(tmp_path / "events.ndjson"),
            option, value]
    if verb == "start" and option != "--every":
        argv += ["--every", "60"]
    assert job_cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err and value in err
    assert err.count("\n") == 1
    assert not (tmp_path / "state.db").exists()  # refused before anything was opened


def test_environment_references_are_not_expanded_in_api_dicts(
        connector: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whoever edits an integration instance must not reach the host's environment."""
    monkeypatch.setenv("HOST_ONLY_VALUE", "host-environment-value-123")
    with HostileGraph(lambda path, q: Reply(body=b'{"value": []}')) as graph:
        connection = graph.connection(client_secret="${HOST_ONLY_VALUE}")
        result = connector.run("List Risky Users", {}, connection)
    assert result["status"] == "Successful"  # the literal text is the secret: sent as is
    sent = b"".join(graph.received)
    assert b"host-environment-value-123" not in sent
    assert b"HOST_ONLY_VALUE" in sent


def test_environment_references_are_expanded_in_connection_files(tmp_path: Path) -> None:
    with HostileGraph(lambda path, q: Reply(body=b'{"value": []}')) as graph:
        path = tmp_path / "connection.yaml"
        path.write_text(yaml.safe_dump(graph.connection(client_secret="${HOST_SECRET_X}")))
        run = _cli("run", "List Risky Users", "--connection", str(path),
                   HOST_SECRET_X="from-the-host-environment")
        assert run.returncode == 0, run.stdout
        assert b"from-the-host-environment" in b"".join(graph.received)


PROXY_PASSWORD = "Pr0xyPassw0rd!x"


@pytest.mark.parametrize("proxy", [
    f"ftp://agent:{PROXY_PASSWORD}@proxy.example:21",
    f"http://agent:{PROXY_PASSWORD}@proxy example:3128",
    f"socks5://agent:{PROXY_PASSWORD}@proxy.example:1080",
    f"http://agent:{PROXY_PASSWORD}@127.0.0.1:9",
])
def test_a_proxy_password_never_reaches_the_result(connector: Any, proxy: str) -> None:
    with HostileGraph(lambda path, q: Reply()) as graph:
        result = connector.run("List Risky Users", {}, graph.connection(proxy_url=proxy))
    assert result["status"] == "Failed"
    text = json.dumps(result)
    assert PROXY_PASSWORD not in text and "Pr0xyPassw0rd%21x" not in text
    assert "Proxy URL" in text or "proxy" in text


def test_a_proxy_password_never_reaches_job_stderr(tmp_path: Path) -> None:
    with HostileGraph(lambda path, q: Reply()) as graph:
        path = tmp_path / "connection.yaml"
        path.write_text(yaml.safe_dump(graph.connection(
            proxy_url=f"http://agent:{PROXY_PASSWORD}@127.0.0.1:9")))
        run = subprocess.run([sys.executable, "-m", "commands.job_cli", "--log-level", "DEBUG",
                              "run", "--connection", str(path), "--event-type", "riskUser",
                              "--state", str(tmp_path / "s.db"), "--sink",
                              str(tmp_path / "e.ndjson"), "--retry-attempts", "1"],
                             cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode in (1, 3)
    assert PROXY_PASSWORD not in run.stdout + run.stderr
    assert "proxy" in run.stdout + run.stderr


@pytest.mark.parametrize(("key", "value"), [
    ("timeout_seconds", 0.5), ("timeout_seconds", 1), ("timeout_seconds", 600),
    ("timeout_seconds", 600.5), ("command_timeout_seconds", 9.5),
    ("command_timeout_seconds", 10), ("command_timeout_seconds", 86400),
    ("command_timeout_seconds", 86401), ("command_timeout_seconds", True),
    ("proxy_url", "socks5://proxy.example:1080"),
    ("proxy_url", "http://proxy.example:3128"), ("proxy_url", "HTTPS://proxy.example:443"),
    ("proxy_url", "ftp://proxy.example:21"),
])
def test_the_schema_and_the_settings_agree_on_each_connection_rule(connector: Any, key: str,
                                                                   value: Any) -> None:
    """One rule, one verdict: a value the schema lets through is one the client takes."""
    plugin = connector.plugin
    raw = {"tenant_id": "contoso.onmicrosoft.com", "client_id": "app",
           "client_secret": "a-secret-value", key: value}
    try:
        resolved = resolve_connection(plugin.manifest, plugin.store, raw, environ={})
    except InvalidInput:
        schema_ok = False
    else:
        schema_ok = True
    try:
        GraphSettings.from_connection({**raw, key: value})
    except InvalidInput:
        settings_ok = False
    else:
        settings_ok = True
    assert schema_ok == settings_ok
    if schema_ok:
        GraphSettings.from_connection(resolved)
