"""The `anygate` command: serve, keys, usage, config check."""

from __future__ import annotations

import asyncio
import math
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import orjson
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncEngine

from anygate import __version__
from anygate.auth.keys import MAX_LIMIT, KeyRecord, create_key, expiry_problem, get_key, key_json, list_keys, revoke_key
from anygate.config import ConfigError, Settings, load_settings
from anygate.logs import counted, setup_logging
from anygate.metering.report import usage_totals
from anygate.server.preflight import database_problem, port_problem, reachability, sqlite_file, without_password
from anygate.store.database import create_engine
from anygate.verify import Options
from anygate.verify import run as run_checklist

app = typer.Typer(help="anygate: one AI API gateway for every SDK.", no_args_is_help=True)
keys_app = typer.Typer(help="Create, list, show and revoke the gateway's API keys.", no_args_is_help=True)
config_app = typer.Typer(help="Check the configuration.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(config_app, name="config")

out = Console(width=None if sys.stdout.isatty() else 200)  # piped output keeps whole ids and keys
err = Console(stderr=True, width=None if sys.stderr.isatty() else 200)
T = TypeVar("T")

ConfigOpt = Annotated[
    str | None, typer.Option("--config", help="Config file (default: $ANYGATE_CONFIG, ./anygate.yaml, built-in).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _version(show: bool) -> None:
    if show:
        out.print(f"anygate {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit.", callback=_version, is_eager=True)
    ] = False,
) -> None:
    """anygate: one AI API gateway for every SDK."""


def _settings(config: str | None) -> Settings:
    try:
        return load_settings(config)
    except ConfigError as exc:
        for problem in exc.problems:
            err.print(f"[red]config error:[/red] {problem}", highlight=False, markup=True)
        raise typer.Exit(2) from None


def _with_db(config: str | None, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    settings = _settings(config)
    file = sqlite_file(settings.database)
    new_file = file if file is not None and not file.exists() else None
    err.print(f"database: {without_password(settings.database)}" + (f" ({file})" if file else ""), highlight=False)
    problem = asyncio.run(database_problem(settings.database))
    if problem:
        err.print(f"[red]error:[/red] {problem}", highlight=False)
        raise typer.Exit(1)
    if new_file is not None:
        err.print(
            f"[yellow]note:[/yellow] {new_file} did not exist: it was made now, empty. Keys made here work only for a gateway "
            "using this file (run where the gateway runs, or give the --config it uses)",
            highlight=False,
        )

    async def run() -> T:
        engine = create_engine(settings.database)  # migrated by the check above
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _parse_time(value: str, option: str) -> float:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        err.print(f"{option}: '{value}' is not an ISO 8601 time (e.g. 2026-12-31 or 2026-12-31T23:59:00Z)")
        raise typer.Exit(2) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    problem = expiry_problem(moment.timestamp())
    if problem:
        err.print(f"{option}: '{value}' {problem}")
        raise typer.Exit(2)
    return moment.timestamp()


def _print_json(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


def _key_table(records: list[KeyRecord]) -> Table:
    table = Table("id", "name", "prefix", "models", "rpm", "tpm", "rpd", "tpd", "budget", "expires", "status")
    for record in records:
        d = key_json(record)
        table.add_row(
            d["id"],
            d["name"],
            d["prefix"] + "…",
            ",".join(d["models"] or ["*"]),
            str(d["rpm"] or "-"),
            str(d["tpm"] or "-"),
            str(d["rpd"] or "-"),
            str(d["tpd"] or "-"),
            f"${d['budget_usd']:.2f}" if d["budget_usd"] is not None else "-",
            d["expires_at"] or "-",
            d["status"],
        )
    return table


@app.command()
def serve(
    config: ConfigOpt = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    workers: Annotated[
        str, typer.Option(help="Worker processes: a number, or auto for one per core this process may run on.")
    ] = "1",
) -> None:
    """Run the gateway."""
    count = worker_count(workers)
    settings = _settings(config)
    problem = port_problem(host, port) or asyncio.run(database_problem(settings.database))
    if problem:
        err.print(f"[red]error:[/red] {problem}", highlight=False)
        raise typer.Exit(1)
    setup_logging()
    from anygate.server.run import serve as run_server

    run_server(settings, host, port, count)


def worker_count(given: str) -> int:
    """The number of worker processes `--workers` asks for: a number up to MAX_WORKERS, or `auto` (the
    cores this process may run on, as many as that)."""
    from anygate.auth.worker_limits import MAX_WORKERS

    if given == "auto":
        cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
        return min(max(len(cores), 1), MAX_WORKERS)
    if not given.isdigit() or not 1 <= int(given) <= MAX_WORKERS:
        raise typer.BadParameter(f"'{given}' is neither a number from 1 to {MAX_WORKERS} nor auto", param_hint="--workers")
    return int(given)


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option("--name", help="A name to recognise the key by.")],
    models: Annotated[str | None, typer.Option(help="Comma-separated models the key may use (default: all).")] = None,
    rpm: Annotated[int | None, typer.Option(help="Requests per minute.", min=1, max=MAX_LIMIT)] = None,
    tpm: Annotated[int | None, typer.Option(help="Tokens per minute.", min=1, max=MAX_LIMIT)] = None,
    rpd: Annotated[int | None, typer.Option(help="Requests per UTC day.", min=1, max=MAX_LIMIT)] = None,
    tpd: Annotated[int | None, typer.Option(help="Tokens per UTC day.", min=1, max=MAX_LIMIT)] = None,
    concurrency: Annotated[int | None, typer.Option(help="Requests in flight at once.", min=1, max=MAX_LIMIT)] = None,
    budget: Annotated[float | None, typer.Option(help="Spend cap in USD.", min=0, max=1e12)] = None,
    expires: Annotated[str | None, typer.Option(help="Expiry, ISO 8601 (UTC when no zone is given).")] = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a key and show it once."""
    allow = [m.strip() for m in models.split(",") if m.strip()] if models else None
    unknown = [m for m in allow or [] if m not in _settings(config).models]
    if unknown:
        known = ", ".join(_settings(config).models) or "none"
        err.print(
            f"--models: {', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not configured (configured: {known})",
            highlight=False,
        )
        raise typer.Exit(2)
    if budget is not None and not math.isfinite(budget):
        err.print(f"--budget: {budget} is not an amount of USD")
        raise typer.Exit(2)
    expires_at = _parse_time(expires, "--expires") if expires else None
    if expires_at is not None and expires_at <= time.time():
        err.print(f"--expires: '{expires}' is in the past: the key would never work", highlight=False)
        raise typer.Exit(2)
    key, record = _with_db(
        config,
        lambda e: create_key(
            e,
            name,
            models=allow,
            rpm=rpm,
            tpm=tpm,
            rpd=rpd,
            tpd=tpd,
            budget_usd=budget,
            expires_at=expires_at,
            max_concurrency=concurrency,
        ),
    )
    if as_json:
        _print_json({"key": key, **key_json(record), "webhook_secret": record.webhook_secret})
        return
    out.print(_key_table([record]))
    out.print(f"\nAPI key (shown only now, store it safely):\n[bold]{key}[/bold]", highlight=False)
    out.print(
        f"Webhook signing secret (verifies this key's task callbacks):\n[bold]{record.webhook_secret}[/bold]", highlight=False
    )


@keys_app.command("list")
def keys_list(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """List every key (never the keys themselves)."""
    records = _with_db(config, list_keys)
    if as_json:
        _print_json([key_json(r) for r in records])
    else:
        out.print(_key_table(records))


@keys_app.command("show")
def keys_show(
    key_id: Annotated[str, typer.Argument(help="The key's id.")], config: ConfigOpt = None, as_json: JsonOpt = False
) -> None:
    """Show one key."""
    record = _with_db(config, lambda e: get_key(e, key_id))
    if record is None:
        err.print(f"no key with id '{key_id}'")
        raise typer.Exit(1)
    if as_json:
        _print_json(key_json(record))
    else:
        out.print(_key_table([record]))


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id.")], config: ConfigOpt = None, as_json: JsonOpt = False
) -> None:
    """Revoke a key; running gateways refuse it within a few seconds."""
    found = _with_db(config, lambda e: revoke_key(e, key_id))
    if not found:
        err.print(f"no key with id '{key_id}'")
        raise typer.Exit(1)
    if as_json:
        _print_json({"id": key_id, "revoked": True})
    else:
        out.print(f"revoked {key_id}")


@app.command()
def usage(
    key: Annotated[str | None, typer.Option("--key", help="Only this key id.")] = None,
    since: Annotated[str | None, typer.Option(help="Only usage from this time on (ISO 8601).")] = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Usage and spend by key and model."""
    since_ts = _parse_time(since, "--since") if since else None

    async def read(engine: AsyncEngine) -> Any:
        if key is not None and await get_key(engine, key) is None:
            return None
        return await usage_totals(engine, key_id=key, since=since_ts)

    totals = _with_db(config, read)
    if totals is None:
        err.print(f"[red]error:[/red] no key with id '{key}' (see anygate keys list)", highlight=False)
        raise typer.Exit(1)
    if as_json:
        _print_json([asdict(t) for t in totals])
        return
    columns = ("key", "model", "requests", "input tokens", "of which cache read / written", "output tokens", "spend (USD)")
    table = Table(*columns, "key budget (USD)")
    for t in totals:
        budget = f"{t.key_spent_usd:.6f} of {t.budget_usd:.2f}" if t.budget_usd is not None else "-"
        cache = f"{t.cached_tokens} / {t.cache_write_tokens}"
        table.add_row(
            t.key_id, t.model, str(t.requests), str(t.input_tokens), cache, str(t.output_tokens), f"{t.cost_usd:.6f}", budget
        )
    out.print(table)


@app.command()
def verify(
    base_url: Annotated[str, typer.Option("--base-url", help="The gateway, e.g. http://127.0.0.1:8080")],
    key: Annotated[
        str | None, typer.Option("--key", help="A gateway API key (better: ANYGATE_API_KEY in the environment).")
    ] = None,
    model: Annotated[str | None, typer.Option("--model", help="The chat model to use (default: the first listed).")] = None,
    callback_host: Annotated[
        str, typer.Option("--callback-host", help="The name or address the gateway reaches this machine by, for task callbacks.")
    ] = "127.0.0.1",
    webhook_secret: Annotated[
        str | None,
        typer.Option(
            "--webhook-secret", help="The key's webhook secret, to check callback signatures (or ANYGATE_WEBHOOK_SECRET)."
        ),
    ] = None,
    forbidden_model: Annotated[
        str | None, typer.Option("--forbidden-model", help="A model this key may not use, for the 403 step.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Verify Your Integration, step by step: the key, models, text and streaming in every family, a
    media and a music task with their callbacks, and the 401, 403, 404 and 429 answers."""
    secret = key or os.environ.get("ANYGATE_API_KEY")
    if not secret:
        err.print("[red]error[/red]: no key: set ANYGATE_API_KEY (or give --key)")
        raise typer.Exit(2)
    options = Options(
        key_source="--key" if key else "ANYGATE_API_KEY",
        model=model,
        callback_host=callback_host,
        webhook_secret=webhook_secret or os.environ.get("ANYGATE_WEBHOOK_SECRET"),
        forbidden_model=forbidden_model,
    )
    results = run_checklist(base_url, secret, options)
    if as_json:
        _print_json([asdict(r) for r in results])
    else:
        table = Table("step", "sent", "expected", "result", "detail", "ms")
        colours = {"PASS": "green", "FAIL": "red", "SKIP": "yellow"}
        for r in results:
            table.add_row(
                r.name, r.sent, r.expected, f"[{colours[r.outcome]}]{r.outcome}[/{colours[r.outcome]}]", r.detail, f"{r.ms:.0f}"
            )
        out.print(table)
    if any(r.outcome == "FAIL" for r in results):
        raise typer.Exit(1)


@config_app.command("check")
def config_check(
    config: ConfigOpt = None,
    connect: Annotated[
        bool, typer.Option("--connect", help="Also reach the database, Redis and each provider's base URL.")
    ] = False,
) -> None:
    """Validate the config and say exactly what is wrong and where (with --connect, what is out of reach)."""
    settings = _settings(config)
    providers, models = len(settings.providers), len(settings.models)
    out.print(
        f"[green]ok[/green]: {settings.source}: {counted(providers, 'provider')}, {counted(models, 'model')}", highlight=False
    )
    if not models:
        err.print(
            "[yellow]warning:[/yellow] no models are configured: every call will answer 404 (add some under models:)",
            highlight=False,
        )
    if not connect:
        return
    unreachable = 0
    for label, problem in asyncio.run(reachability(settings)):
        if problem is None:
            out.print(f"[green]reachable[/green]: {label}", highlight=False)
        else:
            unreachable += 1
            out.print(f"[red]unreachable[/red]: {label}: {problem}", highlight=False)
    if unreachable:
        raise typer.Exit(1)


_METAVARS = {"int": "N", "float": "AMOUNT"}


def _plain_metavars(command: Any) -> None:
    """Help that reads `--port N` and `--json`, not typer's `--port <int>` and `--json <bool>`."""
    for param in command.params:
        if getattr(param, "param_type_name", "") != "option" or param.metavar is not None:
            continue
        if param.is_flag:
            param.metavar = ""
        elif param.type_descriptor.is_choice:
            param.metavar = "|".join(str(c) for c in param.type_descriptor.choices or ())
        else:
            param.metavar = _METAVARS.get(param.bare_type(), "TEXT")
    make_help = command.get_help_option

    def help_option(ctx: Any) -> Any:  # --help is made per call, outside `params`
        option = make_help(ctx)
        if option is not None:
            option.metavar = ""
        return option

    command.get_help_option = help_option
    for sub in getattr(command, "commands", {}).values():
        _plain_metavars(sub)


def main() -> None:
    """Entry point of the `anygate` command."""
    command = typer.main.get_command(app)
    _plain_metavars(command)
    command(prog_name="anygate")
