"""The `breather` command. Errors are one readable line on stderr and exit code 1."""

from __future__ import annotations

import secrets
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from typer.core import TyperCommand, TyperGroup, TyperOption
from typer.models import CommandFunctionType

from bot.config import Settings, load_config, load_settings, platform_problems
from bot.errors import BreatherError, ConfigError

if TYPE_CHECKING:
    from sqlalchemy import Engine


def _as_flag(option: TyperOption | None) -> TyperOption | None:
    # Typer 0.29's help lists every option's type, so `--help` read as if it took a <bool>
    # value; an empty metavar leaves the type column blank for the flag it is.
    if option is not None:
        option.metavar = ""
    return option


class _Command(TyperCommand):
    def get_help_option(self, ctx: Any) -> TyperOption | None:  # ctx: typer's own click Context
        return _as_flag(super().get_help_option(ctx))


class _Group(TyperGroup):
    def get_help_option(self, ctx: Any) -> TyperOption | None:  # ctx: typer's own click Context
        return _as_flag(super().get_help_option(ctx))


class Commands(typer.Typer):
    """A Typer whose commands and groups show `--help` as the flag it is."""

    def __init__(self, **options: Any) -> None:
        super().__init__(cls=_Group, **options)

    def command(self, *args: Any, **options: Any) -> Callable[[CommandFunctionType], CommandFunctionType]:
        options.setdefault("cls", _Command)
        return super().command(*args, **options)


app = Commands(
    help="Breather: private check-ins after hard calls, for contact-centre agents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = Commands(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
survey_app = Commands(help="Pulse surveys.", no_args_is_help=True)
app.add_typer(survey_app, name="survey")
teams_app = Commands(help="Microsoft Teams.", no_args_is_help=True)
app.add_typer(teams_app, name="teams")
keys_app = Commands(help="Pseudonym keys: what each one still protects, and rotation.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
zendesk_app = Commands(help="Zendesk.", no_args_is_help=True)
app.add_typer(zendesk_app, name="zendesk")

T = TypeVar("T")


def fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def guarded(action: Callable[[], T]) -> T:
    """Run a command body, turning Breather's own errors into one line and exit code 1."""
    try:
        return action()
    except BreatherError as error:
        raise fail(str(error).replace("\n", "; ")) from None


def settings_from_env(**overrides: Any) -> Settings:
    return guarded(lambda: load_settings(**overrides))


def database_location(url: str) -> str:
    """Where the database is, for messages: host, port and name, or the file; never a password."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    host = parsed.host or "localhost"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{host}{port}/{parsed.database or ''}"


def migrated_engine(settings: Settings) -> Engine:
    """The database engine, with the schema brought up to date; exits with one line when the
    database cannot be reached."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    from bot.keys import legacy_conversion
    from storage.db import make_engine, upgrade

    engine = make_engine(settings.database_url)
    try:
        upgrade(engine, convert_legacy=legacy_conversion(settings.keyring()))
    except (OperationalError, InterfaceError) as error:
        engine.dispose()
        # The driver's own words, on one line (psycopg adds a hint on a second one).
        reason = " ".join(str(error.orig).split()) if error.orig is not None else type(error).__name__
        raise fail(
            f"cannot reach the database at {database_location(settings.database_url)}: {reason}"
        ) from None
    return engine


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 3000,
) -> None:
    """Run the server: Slack endpoint, webhooks, health, metrics, outbox worker."""
    import uvicorn

    from bot.app import create_app
    from bot.logs import configure_logging
    from handlers.server import GIL_SWITCH_S, server_options

    settings = settings_from_env()
    guarded(settings.require_messenger)
    if settings.messenger == "sandbox":
        guarded(lambda: _sandbox_host(host))
    guarded(lambda: load_config(settings.config_path))
    configure_logging(settings)
    migrated_engine(settings).dispose()
    application = guarded(lambda: create_app(settings, freeze_start_up=True))
    console = application.state.sandbox_console
    if console is not None:
        from bot.i18n import catalogue

        shown = f"[{host}]" if ":" in host else host
        typer.echo(catalogue("en").t("demo.console", url=console.url(f"http://{shown}:{port}")))
    sys.setswitchinterval(GIL_SWITCH_S)
    uvicorn.run(application, host=host, port=port, **server_options(settings))


def _sandbox_host(host: str) -> None:
    from handlers.sandbox.access import is_loopback_host

    if not is_loopback_host(host):
        raise ConfigError(
            f"--host: the sandbox messenger serves only on this machine (127.0.0.1, localhost or ::1), "
            f"not {host}: its console shows private check-ins"
        )


@contextmanager
def _interrupted_by_termination() -> Iterator[None]:
    """SIGTERM and SIGHUP (a closed terminal) stop the process the way Ctrl+C does, so the
    `finally` blocks and context managers on the way out still run."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = {number: signal.signal(number, interrupt) for number in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port for the demo server.")] = 3000,
    calls: Annotated[int | None, typer.Option(help="Stop simulating after this many calls.")] = None,
    rate: Annotated[float, typer.Option(help="Simulated calls per second.")] = 0.5,
    duration: Annotated[float | None, typer.Option(help="Stop the demo after this many seconds.")] = None,
    language: Annotated[
        str, typer.Option(help="The demo team's language: en, ro or fa (Persian, right to left).")
    ] = "en",
) -> None:
    """A credential-less demo: sandbox messenger, SQLite, a demo team and simulated calls."""
    from bot.app import create_app
    from bot.i18n import available_languages, catalogue
    from bot.logs import configure_logging
    from handlers.sandbox.demo import demo_config, run_demo

    if language not in available_languages():
        raise fail(f"--language must be one of {', '.join(available_languages())}, not {language!r}")

    # The throwaway database goes when the demo does, however it is stopped: Ctrl+C, the end
    # of --duration, or a SIGTERM/SIGHUP (turned into the same orderly stop as Ctrl+C).
    with (
        _interrupted_by_termination(),
        tempfile.TemporaryDirectory(prefix="breather-demo-", ignore_cleanup_errors=True) as workdir,
    ):
        config = demo_config(Path(workdir), language)
        settings = settings_from_env(
            demo=True,
            messenger="sandbox",
            database_url=f"sqlite:///{Path(workdir) / 'breather.db'}",
            config_path=config,
            webhook_secret=secrets.token_hex(16),
            log_level="WARNING",
            slack_bot_token=None,
            slack_signing_secret=None,
            slack_app_token=None,
        )
        configure_logging(settings)
        code = run_demo(
            settings,
            build_app=create_app,
            host="127.0.0.1",
            port=port,
            calls=calls,
            rate=rate,
            duration=duration,
        )
    if code == 0:  # it ran (a demo that could not start says so itself)
        typer.echo(catalogue(language).t("demo.stopped"))
    raise typer.Exit(code)


@app.command()
def simulate(
    url: Annotated[str, typer.Option(help="Breather's base URL or its /webhooks/calls URL.")],
    calls: Annotated[int, typer.Option(min=1, help="How many calls to send.")] = 20,
    rate: Annotated[float, typer.Option(min=0.01, help="Calls per second.")] = 2.0,
    secret: Annotated[
        str | None,
        typer.Option(
            show_default=False,
            help="Webhook secret (default: BREATHER_WEBHOOK_SECRET, from the environment or .env).",
        ),
    ] = None,
    agent: Annotated[
        list[str] | None, typer.Option(help="Agent e-mail (repeatable); default: the roster.")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed, for repeatable runs.")] = None,
) -> None:
    """Send signed synthetic call events to a running Breather."""
    from pydantic import ValidationError

    from bot.config import SimulateSettings, describe_validation_error
    from bot.simulation import synthetic_calls
    from handlers.telephony.simulator import run_simulation

    try:
        found = SimulateSettings()
    except ValidationError as error:
        raise fail(describe_validation_error(error, "settings").replace("\n", "; ")) from None
    if not secret and found.webhook_secret is not None:
        secret = found.webhook_secret.get_secret_value()
    if not secret:
        raise fail("BREATHER_WEBHOOK_SECRET: set it (or pass --secret) to sign the events")
    emails = agent or _roster_emails(found.config_path)
    target = url.rstrip("/")
    if not target.endswith("/webhooks/calls"):
        target += "/webhooks/calls"

    def show(event: dict[str, Any], status: int) -> None:
        hard = (
            "hard"
            if event["tags"] or event["transfers"] or event["disconnected_by"] == "customer"
            else "easy"
        )
        typer.echo(f"{event['event_id']}  {event['agent_email']:<28} {hard:<4}  -> HTTP {status}")

    try:
        report = run_simulation(
            target, secret, synthetic_calls(emails, calls, seed), rate=rate, on_result=show
        )
    except Exception as error:
        raise fail(f"could not reach {target}: {error}") from None
    typer.echo(
        f"sent {report.sent}, accepted {report.accepted}, refused {report.refused or 0}, "
        f"connection errors {report.errors}"
    )
    if report.sent and not report.accepted:
        raise typer.Exit(1)


def _roster_emails(path: Path) -> list[str]:
    if not path.is_file():
        path = Path(str(resources.files("bot.demo").joinpath("breather.yml")))
    config = guarded(lambda: load_config(path))
    emails = [agent.email for team in config.teams for agent in team.agents]
    if not emails:
        raise fail(f"{path.name} lists no agents; pass --agent EMAIL")
    return emails


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (serve also does this on start)."""
    settings = settings_from_env()
    migrated_engine(settings).dispose()
    typer.echo("database is up to date")


def offline_services(settings: Settings) -> Any:
    """The app's services without the server, to act on the shared database from the CLI."""
    from bot.app import make_messenger
    from bot.container import Services
    from handlers.sandbox.messenger import SandboxMessenger

    engine = migrated_engine(settings)
    try:
        # Offline commands reach nobody themselves: without the messenger's credentials they
        # work as before, on a messenger that only records (only `serve` requires them).
        messenger = (
            make_messenger(settings, engine)
            if settings.messenger_problem() is None
            else SandboxMessenger(engine)
        )
        services = guarded(lambda: Services(settings, engine, messenger))
        services.sync()
    except BaseException:  # typer.Exit included: the caller never gets the engine to dispose
        engine.dispose()
        raise
    return services


@survey_app.command("send")
def survey_send(team: Annotated[str, typer.Option(help="The team id from breather.yml.")]) -> None:
    """Start this period's pulse-survey round for a team now (never twice per period)."""
    settings = settings_from_env()
    services = offline_services(settings)
    try:
        outcome = guarded(lambda: services.survey_actions.start_round(team))
        counts = services.survey_actions.round_counts(outcome.round.id)
        held_back = (
            f"; {counts.held_back} held back for now (off shift, paused, just after a check-in, "
            "or not taking surveys): they are invited later in the round if Breather may ask them"
            if counts.held_back
            else ""
        )
        if outcome.created:
            typer.echo(
                f"pulse round for {team} opened (period from {outcome.round.period_start}): "
                f"{counts.invited} of {counts.in_round} agent(s) invited now{held_back}"
            )
        else:
            typer.echo(
                f"pulse round for {team} was already opened for this period "
                f"(from {outcome.round.period_start}); nobody was invited again. So far "
                f"{counts.invited} of {counts.in_round} agent(s) invited{held_back}"
            )
    finally:
        services.engine.dispose()


@app.command()
def digest(
    team: Annotated[str, typer.Option(help="The team id from breather.yml.")],
    format: Annotated[str, typer.Option(help="text, json or png.")] = "text",
    output: Annotated[
        Path | None, typer.Option(help="Where to write the PNG (default: a file named for the week).")
    ] = None,
    week: Annotated[
        str | None,
        typer.Option(help="Any day (YYYY-MM-DD) of an earlier week; default: the latest complete week."),
    ] = None,
) -> None:
    """Print a team's anonymised digest (latest complete week and the 12-week trend)."""
    import json

    from bot.digests.messages import digest_text

    if format not in ("text", "json", "png"):
        raise fail("--format must be text, json or png")
    try:
        week_of = date.fromisoformat(week) if week is not None else None
    except ValueError:
        raise fail(f"--week must be a date such as 2026-11-16, not {week!r}") from None
    settings = settings_from_env()
    services = offline_services(settings)
    try:
        chosen, result = guarded(lambda: services.digest_desk.for_operator(team, week_of))
        if format == "json":
            typer.echo(json.dumps(result.to_json(), indent=2))
        elif format == "text":
            from bot.i18n import team_catalogue
            from bot.i18n.bidi import without_marks

            typer.echo(without_marks(digest_text(team_catalogue(chosen), chosen.name, result)))
        else:
            chart = services.digest_desk.chart(chosen, result)
            target = output or Path(chart.filename)
            target.write_bytes(chart.content)
            typer.echo(f"wrote {target}")
    finally:
        services.engine.dispose()


@app.command()
def audit(
    since: Annotated[
        str | None, typer.Option(help="Only events on or after this day (YYYY-MM-DD, UTC).")
    ] = None,
    format: Annotated[str, typer.Option(help="csv or json.")] = "csv",
) -> None:
    """Export who read which team's digest and when, and configuration changes (for a works
    council or a DPO); never anything about what an agent answered or did."""
    from datetime import UTC, datetime

    from bot import audit as audit_log
    from storage.db import read_scope

    if format not in ("csv", "json"):
        raise fail("--format must be csv or json")
    try:
        start = datetime.combine(date.fromisoformat(since), datetime.min.time(), UTC) if since else None
    except ValueError:
        raise fail(f"--since must be a date such as 2026-11-16, not {since!r}") from None
    settings = settings_from_env()
    engine = migrated_engine(settings)
    try:
        with read_scope(engine) as session:
            rows = audit_log.events(session, since=start)
        typer.echo(
            audit_log.as_csv(rows) if format == "csv" else audit_log.as_json(rows), nl=format == "json"
        )
    finally:
        engine.dispose()


@app.command()
def purge() -> None:
    """Apply the retention policy now (raw data older than retention_days is deleted)."""
    from bot.clock import utcnow
    from bot.compliments.service import purge_compliments
    from bot.retention import Retention

    settings = settings_from_env()
    config = guarded(lambda: load_config(settings.config_path))
    days = config.settings.retention_days
    engine = migrated_engine(settings)
    try:
        # The same purge as the nightly job: the policy, then compliments and kudos.
        also = (lambda session, now: purge_compliments(session, retention_days=days, now=now),)
        counts = Retention(engine, config.settings, utcnow, also=also).purge()
    finally:
        engine.dispose()
    typer.echo(
        ", ".join(
            f"{name}: {count}" if name.endswith("cleared") else f"{name}: {count} deleted"
            for name, count in counts.items()
        )
    )


@teams_app.command("package")
def teams_package(
    output: Annotated[Path, typer.Option(help="Where to write the zip.")] = Path("breather-teams.zip"),
    version: Annotated[
        str, typer.Option(help="The app's version in Teams; raise it for each new upload.")
    ] = "1.0.0",
    developer: Annotated[str, typer.Option(help="Who publishes the app in your organisation.")] = "Breather",
    website_url: Annotated[
        str | None, typer.Option(help="https page about the app (default: BREATHER_PUBLIC_URL).")
    ] = None,
    privacy_url: Annotated[
        str | None, typer.Option(help="Your privacy statement (https; default: BREATHER_PUBLIC_URL/privacy).")
    ] = None,
    terms_url: Annotated[
        str | None, typer.Option(help="Your terms of use (https; default: BREATHER_PUBLIC_URL/terms).")
    ] = None,
) -> None:
    """Write the Teams app package (manifest and icons) to upload to Teams."""
    from pydantic import ValidationError

    from bot.config import TeamsPackageSettings, describe_validation_error
    from bot.i18n import catalogue
    from handlers.teams.package import PackageInfo, package

    try:
        found = TeamsPackageSettings()
    except ValidationError as error:
        raise fail(describe_validation_error(error, "settings").replace("\n", "; ")) from None
    info = PackageInfo(
        app_id=found.teams_app_id or "",
        public_url=found.public_url,
        version=version,
        developer=developer,
        website_url=website_url,
        privacy_url=privacy_url,
        terms_url=terms_url,
    )
    content = guarded(lambda: package(info, catalogue("en")))
    try:
        output.write_bytes(content)
    except OSError as error:
        raise fail(f"--output: cannot write {output}: {error.strerror}") from None
    typer.echo(f"wrote {output}: upload it in Teams (Apps > Manage your apps > Upload an app)")


@teams_app.command("install")
def teams_install(
    team: Annotated[
        str | None, typer.Option(help="The team id from breather.yml (default: every team).")
    ] = None,
    catalogue_id: Annotated[
        str | None,
        typer.Option(help="The app's id in your Teams catalogue (default: looked up by TEAMS_APP_ID)."),
    ] = None,
) -> None:
    """Install Breather in Teams for a team's agents and leads (Microsoft Graph), so it can write to them."""
    from handlers.teams.graph import Outcome, install_for

    settings = settings_from_env()
    config = guarded(lambda: load_config(settings.config_path))
    teams = [guarded(lambda: config.team(team))] if team else list(config.teams)
    people = list(
        dict.fromkeys([a.email for t in teams for a in t.agents] + [m for t in teams for m in t.managers])
    )
    counts = dict.fromkeys(Outcome, 0)
    results = install_for(settings, people, catalogue_id=catalogue_id)
    while (result := guarded(lambda: next(results, None))) is not None:
        counts[result.outcome] += 1
        detail = f" ({result.detail})" if result.detail else ""
        typer.echo(f"{result.person}: {result.outcome.value}{detail}")
    typer.echo(", ".join(f"{n} {outcome.value}" for outcome, n in counts.items() if n) or "nobody to install")
    if counts[Outcome.FAILED] or counts[Outcome.NOT_FOUND]:
        raise typer.Exit(1)


def _places(uses: list[Any]) -> str:
    return ", ".join(f"{use.place} {use.rows}" for use in uses)


@keys_app.command("status")
def keys_status() -> None:
    """Show which pseudonym keys the stored data is under, and whether an old key can go."""
    from bot.keys import usage

    settings = settings_from_env()
    keyring = settings.keyring()
    engine = migrated_engine(settings)
    try:
        uses = usage(engine)
    finally:
        engine.dispose()
    kids = list(dict.fromkeys([*keyring.kids, *(use.kid for use in uses)]))
    for kid in kids:
        mine = [use for use in uses if use.kid == kid]
        role = (
            "current (BREATHER_PSEUDONYM_KEY)"
            if kid == keyring.kid
            else "old (BREATHER_PSEUDONYM_KEYS_OLD)"
            if kid in keyring.kids
            else "NOT CONFIGURED"
        )
        held = f"{sum(use.rows for use in mine)} value(s): {_places(mine)}" if mine else "nothing stored"
        typer.echo(f"{kid} {role}: {held}")
        if kid in keyring.kids and kid != keyring.kid and not mine:
            typer.echo(f"  {kid} protects nothing any more: remove it from BREATHER_PSEUDONYM_KEYS_OLD")
    if any(kid not in keyring.kids for kid in kids):
        raise fail("data is stored under a key that is not configured; add it to BREATHER_PSEUDONYM_KEYS_OLD")


@keys_app.command("rotate")
def keys_rotate(
    batch: Annotated[int, typer.Option(min=1, max=50_000, help="Rows per transaction.")] = 2000,
    now: Annotated[
        bool,
        typer.Option(
            "--now",
            help="Also clear, at once, old-key hashes of outside ids whose work is done (a leaked key).",
        ),
    ] = False,
) -> None:
    """Re-key everything stored under BREATHER_PSEUDONYM_KEYS_OLD to BREATHER_PSEUDONYM_KEY, in
    batches, while Breather runs; then say whether the old key can be removed."""
    from bot.keys import rotate, usage

    settings = settings_from_env()
    keyring = settings.keyring()
    if not keyring.old:
        raise fail(
            "BREATHER_PSEUDONYM_KEYS_OLD is empty, so there is nothing to rotate: set "
            "BREATHER_PSEUDONYM_KEY to the new key and BREATHER_PSEUDONYM_KEYS_OLD to the old one, "
            "restart every `breather serve`, then run this again"
        )
    config = guarded(lambda: load_config(settings.config_path))
    engine = migrated_engine(settings)
    try:
        unknown = sorted({use.kid for use in usage(engine)} - set(keyring.kids))
        if unknown:
            raise fail(
                f"data is stored under key(s) {', '.join(unknown)}, which are not configured: "
                "add them to BREATHER_PSEUDONYM_KEYS_OLD"
            )
        results = rotate(engine, keyring, config=config, batch=batch, now=now, progress=typer.echo)
    finally:
        engine.dispose()
    for result in results:
        rekeyed = ", ".join(f"{place} {n}" for place, n in result.rekeyed.items() if n) or "nothing"
        typer.echo(f"{result.old} -> {result.new}: re-keyed {rekeyed}")
        if result.merged:
            typer.echo(f"  merged {result.merged} row(s) written under both keys during the rotation")
        cleared = ", ".join(f"{place} {n}" for place, n in result.forgotten.items() if n)
        if cleared:
            typer.echo(f"  cleared old-key hashes of outside ids: {cleared}")
        if result.retired:
            typer.echo(
                f"{result.old} is retired: nothing is stored under it any more. Remove it from "
                "BREATHER_PSEUDONYM_KEYS_OLD and restart `breather serve`."
            )
        else:
            typer.echo(
                f"{result.old} still protects {_places(result.remaining)}: one-way hashes of ids "
                "Breather no longer holds (or work still under way), which stay matchable until "
                "the daily purge clears them (within 7 days). Keep it in BREATHER_PSEUDONYM_KEYS_OLD "
                "until `breather keys status` shows nothing under it, or run `breather keys rotate "
                "--now` to clear them at once."
            )


@zendesk_app.command("trigger-body")
def zendesk_trigger_body(
    rating: Annotated[str, typer.Argument(help="The rating this trigger sends: good or bad.")],
) -> None:
    """Print the JSON body for the Zendesk trigger that sends RATING ratings (paste it as is)."""
    from handlers.telephony.zendesk import trigger_body

    word = rating.strip().lower()
    if word not in ("good", "bad"):
        raise fail(f"RATING: must be good or bad (got {rating!r})")
    typer.echo(trigger_body("good" if word == "good" else "bad"))


@app.command("check-config")
def check_config() -> None:
    """Validate settings and breather.yml; exit 1 naming the bad field."""
    settings = settings_from_env()
    guarded(settings.require_messenger)
    config = guarded(lambda: load_config(settings.config_path))
    errors, warnings = platform_problems(settings, config)
    if errors:
        raise fail("; ".join(errors))
    agents = sum(len(team.agents) for team in config.teams)
    typer.echo(
        f"ok: {len(config.teams)} team(s), {agents} agent(s), messenger {settings.messenger}, "
        f"database {settings.database_url.split(':', 1)[0]}"
    )
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
