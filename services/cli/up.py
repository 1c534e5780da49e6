"""``postroom up`` (what ``make up`` runs): the whole pipeline on this machine.

Four service processes over the RabbitMQ at ``AMQP_URL`` (started under ``var/`` when none answers
and Debian's RabbitMQ is installed; otherwise all four in one process over the in-memory broker),
the database at ``DATABASE_URL`` (SQLite under ``var/`` by default), the demo account reading the
drop folder ``var/inbox/``, and an SMTP sink keeping outgoing mail under ``var/outbox/``.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import click

from services.cli.accountinput import refused
from services.cli.context import CliContext
from shared.settings import CommonSettings

def local_token_secret(settings: CommonSettings) -> tuple[Path, bool]:
    """The file of the secret that signs item tokens for the services ``up`` starts, and whether it
    was made now. Made once, random, and kept: tokens in mail already sent stay valid across
    restarts. A secret set in the environment wins over it (``resolved_token_secret``)."""
    path = settings.token_secret_file or settings.var_dir / "token-secret"
    if "token_secret" in settings.model_fields_set or path.exists():
        return path, False
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_secret(path, secrets.token_urlsafe(48))
    return path, True


def _write_secret(path: Path, text: str) -> None:
    """``text`` in a new file only its owner can read, from its first byte on."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text + "\n")


def _spawn(args: list[str], log_path: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    # A session of its own: Ctrl-C reaches only `up`, which stops the services in order, instead of
    # every service at once (and `up` taking their clean exit for a crash).
    return subprocess.Popen(args, stdout=log_path.open("ab"), stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)


ADMIN_EMAIL = "admin@postroom.local"


def _first_admin(ctx: CliContext, var: Path) -> str:
    """The first admin, once: its password goes to a 0600 file under ``var/``, never to the log."""
    from sqlalchemy import select

    from services.app import users
    from shared.db.engine import transaction
    from shared.db.models import User

    password_file = var / "admin-password"
    with transaction(ctx.sessions) as session:
        if session.scalar(select(User.id).where(User.role == "admin", User.password_hash.is_not(None)).limit(1)):
            return (f"{ADMIN_EMAIL}, password in {password_file}" if password_file.exists()
                    else "as one of the admins (postroom users list)")
        import secrets

        password = secrets.token_urlsafe(18)
        users.add_user(session, ADMIN_EMAIL, name="Admin", role="admin", password=password)
    password_file.touch(mode=0o600)
    password_file.write_text(password + "\n")
    click.echo(f"Made the first admin {ADMIN_EMAIL}; the password is in {password_file}")
    return f"{ADMIN_EMAIL}, password in {password_file}"


DEMO_ACCOUNTS = Path("deploy/local/accounts.yaml")


def demo_accounts_for(var: Path) -> Path:
    """The demo's config file with its drop folder under ``var`` (``POSTROOM_VAR_DIR``): the file
    itself names ``var/inbox``, the default; another var directory gets its own copy, written there."""
    if var == Path("var"):
        return DEMO_ACCOUNTS
    own = var / "demo-accounts.yaml"
    own.write_text(DEMO_ACCOUNTS.read_text().replace("path: var/inbox", f"path: {var / 'inbox'}"))
    return own


@click.command("up")
@click.option("--accounts-file", type=click.Path(path_type=Path), default=DEMO_ACCOUNTS, show_default=True)
@click.option("--memory", is_flag=True, help="Use the in-memory broker even if RabbitMQ answers.")
@click.option("--sink-port", type=int, default=8025, show_default=True, envvar="POSTROOM_SINK_PORT",
              help="The local SMTP sink's port (POSTROOM_SINK_PORT).")
@click.pass_obj
def up_command(ctx: CliContext, accounts_file: Path, memory: bool, sink_port: int) -> None:
    """Run the whole pipeline locally until Ctrl-C."""
    import yaml
    from pydantic import ValidationError

    from services.app.accountedits import apply_config_file
    from services.app.actors import OPERATOR
    from services.cli.invalid import refuse
    from services.cli.localbroker import broker_answers, start_local_rabbitmq
    from shared.db.engine import make_engine
    from shared.db.migrate import upgrade

    settings = ctx.settings
    var = settings.var_dir
    for sub in ("inbox", "outbox", "log"):
        (var / sub).mkdir(parents=True, exist_ok=True)
    if accounts_file == DEMO_ACCOUNTS:
        accounts_file = demo_accounts_for(var)
    key_file = settings.secret_key_file or var / "secret.key"
    if not settings.secret_keys and not key_file.exists():
        from shared.secrets import new_key

        _write_secret(key_file, new_key())
        click.echo(f"Made a key for the secrets stored in the database: {key_file} "
                   "(keep it out of backups of the database)")
    token_file, made = local_token_secret(settings)
    if made:
        click.echo(f"Made the secret that signs item tokens in our mail: {token_file}")
    upgrade(make_engine(settings.resolved_database_url))
    notes: list[str] = []
    try:
        with refused(), ctx.sessions() as session, session.begin():
            # A config file: the demo's project is declared beside its account.
            for line in apply_config_file(session, OPERATOR, accounts_file, ctx.secret_box, notes=notes):
                click.echo(line)
    except (ValidationError, yaml.YAMLError) as exc:
        raise refuse(accounts_file, exc) from None
    for note in notes:
        click.echo(f"warning: {note}", err=True)
    admin_line = _first_admin(ctx, var)

    if not memory and not broker_answers(settings.amqp_url):
        click.echo(f"No RabbitMQ answers at {settings.amqp_url}; trying to start one under {var}/rabbitmq ...")
        if start_local_rabbitmq(var, settings.amqp_url):
            click.echo("Started a local RabbitMQ.")
        else:
            click.echo("No RabbitMQ could be started: running all four services in ONE process over the "
                       "in-memory broker. Nothing queued survives a restart and the stages do not scale "
                       "independently; install RabbitMQ or set AMQP_URL for the real thing.")
            memory = True

    # The services read the token secret from the file (``resolved_token_secret``) unless one is set.
    env = {**os.environ, "POSTROOM_TOKEN_SECRET_FILE": str(token_file.absolute()), "SMTP_HOST": "127.0.0.1",
           "SMTP_PORT": str(sink_port), "SMTP_TLS": "none", "POSTROOM_LOG_FORMAT": "json"}
    python = sys.executable
    from services.api.settings import ApiSettings

    api_url = ApiSettings(token_secret_file=token_file).url
    cli = os.path.relpath(Path(sys.executable).parent / "postroom")
    procs: dict[str, subprocess.Popen[bytes]] = {
        "smtp-sink": _spawn([python, "-m", "services.cli", "smtp-sink", "--dir", str(var / "outbox"),
                             "--port", str(sink_port)], var / "log" / "smtp-sink.log", env)}
    names = ["all"] if memory else ["fetcher", "parser", "itemwriter", "notifier", "api"]
    health = []
    for index, name in enumerate(names):
        args = [python, "-m", "services.cli", "run", "all"] if memory else [python, "-m", f"services.{name}"]
        own = dict(env)
        if settings.health_port:  # one port each, from the one given: they cannot share it
            own["POSTROOM_HEALTH_PORT"] = str(settings.health_port + index)
            health.append(f"{name} :{settings.health_port + index}")
        procs[name] = _spawn(args, var / "log" / f"{name}.log", own)

    health_line = ("\n  health:    " + ", ".join(health)) if health else ""
    steps = [(f"cp tests/data/printer.eml {var}/inbox/", f"or: {cli} ingest --account demo < mail.eml"),
             (f"{cli} items list", "the item, within a second"),
             (f"ls {var}/outbox/", "the auto-reply, with the item's number in its subject")]
    width = max(len(command) for command, _ in steps) + 2
    try_lines = "\n".join(f"  {command:<{width}}# {what}" for command, what in steps)
    click.echo(f"""
Postroom is running ({'one process, in-memory broker' if memory else 'five processes over ' + settings.amqp_url}).
  console:   {api_url}/  (the web pages; sign in with the line below)
  API:       {api_url}/api/v1  (OpenAPI: {api_url}/api/v1/openapi.json)
  sign in:   {admin_line}
  database:  {settings.resolved_database_url}
  logs:      tail -f {var}/log/*.log
  SMTP sink: 127.0.0.1:{sink_port}, each mail under {var}/outbox/{health_line}

Try it, in a second terminal in this folder:
{try_lines}
  Reply to that auto-reply (keep [#N] in the subject) and drop it in {var}/inbox/: it is appended.
  curl -s {api_url}/api/v1/session -H 'Content-Type: application/json' \\
    -d '{{"email": "{ADMIN_EMAIL}", "password": "'"$(cat {var}/admin-password)"'"}}'   # a token for the API

Ctrl-C stops everything.""")
    def _interrupt(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _interrupt)
    try:
        while True:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    raise click.ClickException(f"{name} exited with {proc.returncode}; see {var}/log/{name}.log")
            time.sleep(0.5)
    except KeyboardInterrupt:
        click.echo("stopping ...")
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
