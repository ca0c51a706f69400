"""Flask commands: surveys, campaigns, accounts, exports, and the one-step setup used by ``make run``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from flask import Flask, current_app, has_app_context
from flask.cli import AppGroup, ScriptInfo, with_appcontext
from flask_babel import force_locale

from app.extensions import init_migrations
from app.services import accounts, audit, campaigns, codes, distribution, export, storage
from app.services.responses import store_responses
from app.services.results import campaign_results, report_pdf
from app.services.surveys import definition, import_survey
from surveys import SurveyDefinitionError, bundled_paths, load
from surveys.answers import validate
from surveys.synthetic import synthetic_answers

survey_cli = AppGroup("survey", help="Check and import survey definitions.")
campaign_cli = AppGroup("campaign", help="Open, list, close campaigns and scramble their storage order.")
DEMO_SURVEY = "office-service-quality"


def register(app: Flask) -> None:
    for command in (survey_cli, campaign_cli, codes_cli, create_admin, export_command, bootstrap, demo_data,
                    results_command, report_command, MigrationCommands("db")):
        app.cli.add_command(command)


class MigrationCommands(click.Group):
    """Flask-Migrate's `flask db ...` group, set up (with Alembic) only when it is run: its context, options and
    callback are Flask-Migrate's own."""

    def __init__(self, name: str) -> None:
        super().__init__(name, help="Perform database migrations.")

    @staticmethod
    def _commands(ctx: click.Context | None) -> click.Group:
        app = current_app._get_current_object() if has_app_context() else ctx.ensure_object(ScriptInfo).load_app()
        if "migrate" not in app.extensions:
            init_migrations(app)
        from flask_migrate.cli import db as commands

        return commands

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        return self._commands(parent).make_context(info_name, args, parent=parent, **extra)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._commands(ctx).list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return self._commands(ctx).get_command(ctx, name)


def fail(message: object) -> None:
    """Print an error (translatable service messages in English, like the rest of the CLI) and exit 1."""
    with force_locale("en"):
        click.echo(f"Error: {message}", err=True)
    sys.exit(1)


@survey_cli.command("check")
@click.argument("path", type=click.Path(dir_okay=False))
def survey_check(path: str) -> None:
    """Validate a survey file and print every problem found."""
    try:
        survey = load(path)
    except SurveyDefinitionError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    click.echo(f"{path}: OK ({survey.key}, {len(survey.questions)} questions)")


@survey_cli.command("import")
@click.argument("path", type=click.Path(dir_okay=False))
def survey_import(path: str) -> None:
    """Store a survey file (a new version if its key exists and the file changed)."""
    _import(path)


def _import(path) -> None:
    try:
        with open(path, "rb") as fh:
            result = import_survey(fh.read(), filename=str(path))
    except OSError as exc:
        fail(f"{path}: {exc.strerror}")
    except SurveyDefinitionError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    v = result.version
    if result.created:
        audit.record("survey.import", v.survey.key, f"version {v.number} from {path}", username="cli")
    state = "imported as" if result.created else "unchanged, still"
    click.echo(f"{v.survey.key}: {state} version {v.number}")


@campaign_cli.command("open")
@click.argument("survey_key")
@click.option("--name", required=True, help="Name shown to the office head, e.g. 2026 年第一次测评.")
@click.option("--min-group-size", "k", type=int, default=None, help="k: smallest group ever reported.")
@click.option("--closes", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Closing date.")
@click.option("--mode", type=click.Choice(campaigns.MODES), default="open", show_default=True,
              help="open: anyone with the link; codes: each answer needs a one-time code.")
@click.option("--groups", default=None, help="Offer only these respondent groups, comma-separated.")
def campaign_open(survey_key: str, name: str, k: int | None, closes, mode: str, groups: str | None) -> None:
    """Open a campaign of a stored survey; the last line printed is its public URL."""
    try:
        campaign = campaigns.open_campaign(
            survey_key, name, min_group_size=k, closes_on=closes and closes.date(), mode=mode,
            groups=[g.strip() for g in groups.split(",") if g.strip()] if groups else None,
        )
    except campaigns.CampaignError as exc:
        fail(exc)
    audit.record("campaign.open", campaign.slug, f"{survey_key}, {campaign.name}, mode {mode}", username="cli")
    click.echo(f"Opened campaign '{campaign.name}' ({campaign.slug}), k = {campaign.min_group_size}, "
               f"mode = {campaign.collection_mode}")
    click.echo(campaigns.public_url(campaign))


@campaign_cli.command("list")
def campaign_list() -> None:
    """List campaigns with status and response counts."""
    for row in campaigns.list_campaigns():
        c = row.campaign
        click.echo(f"{c.slug}\t{row.status}\t{row.responses}\t{row.survey_key}\t{c.name}")


@campaign_cli.command("close")
@click.argument("slug")
def campaign_close(slug: str) -> None:
    """Close a campaign: the form stops accepting answers."""
    campaign = campaigns.get_campaign(slug)
    if campaign is None:
        fail(f"no campaign '{slug}'")
    scrambled = campaigns.close_campaign(campaign)
    audit.record("campaign.close", slug, username="cli")
    click.echo(f"Closed campaign '{campaign.name}' ({slug})")
    if scrambled is not None and scrambled.error:
        click.echo(f"Warning: storage order not scrambled ({scrambled.error}); "
                   f"run: flask --app wsgi campaign scramble {slug}", err=True)
    elif scrambled is not None and scrambled.done:
        click.echo(_scrambled_line(scrambled))


@campaign_cli.command("scramble")
@click.argument("slug", required=False)
@click.option("--all", "everything", is_flag=True, help="Rewrite the rows of every campaign, open or closed.")
def campaign_scramble(slug: str | None, everything: bool) -> None:
    """PostgreSQL: store responses in random-key order, hiding their arrival order (run nightly from cron).

    Without SLUG: every campaign with answers stored since its last scramble (open campaigns, mostly).
    The response tables are locked meanwhile (submissions wait); a no-op on SQLite.
    """
    if slug and everything:
        fail("give a SLUG or --all, not both")
    if not storage.supported():
        click.echo(f"Nothing to do: {storage.backend()} stores the response tables in the order of their "
                   "random keys (WITHOUT ROWID).")
        return
    if everything:
        chosen = None
    elif slug:
        campaign = campaigns.get_campaign(slug)
        if campaign is None:
            fail(f"no campaign '{slug}'")
        chosen = [campaign]
    else:
        chosen = storage.pending_campaigns()
        if not chosen:
            click.echo("Nothing to do: no campaign has answers stored since it was last scrambled.")
            return
    try:
        result = storage.scramble(chosen)
    except storage.StorageError as exc:
        fail(exc)
    click.echo(_scrambled_line(result))


def _scrambled_line(result) -> str:
    which = "every campaign" if result.campaigns is None else f"{result.campaigns} campaign(s)"
    rows = ", ".join(f"{n:,} {name}" for name, n in result.rows.items())
    return (f"Scrambled the storage order of {which}: rewrote {rows} rows in {result.rewrite:.1f} s; "
            f"reordered with the tables locked for {result.locked:.1f} s (after {result.lock_wait:.1f} s waiting "
            f"for the lock); vacuum {result.vacuum:.1f} s")


codes_cli = AppGroup("codes", help="One-time participation codes.")


@codes_cli.command("generate")
@click.argument("slug")
@click.option("--count", type=click.IntRange(1, codes.MAX_BATCH), required=True, help="How many codes.")
def codes_generate(slug: str, count: int) -> None:
    """Create one-time codes for a code-mode campaign and print them, one per line (shown only now)."""
    campaign = campaigns.get_campaign(slug)
    if campaign is None:
        fail(f"no campaign '{slug}'")
    if campaign.collection_mode != "codes":
        fail(f"campaign '{slug}' takes open answers; open it with --mode codes to use codes")
    for code in codes.generate_codes(campaign, count):
        click.echo(codes.pretty(code))
    audit.record("codes.generate", slug, f"{count} codes", username="cli")


@click.command("create-admin")
@with_appcontext
@click.argument("username")
def create_admin(username: str) -> None:
    """Create an admin account (password from OFFICEPULSE_ADMIN_PASSWORD or a prompt)."""
    password = os.environ.get("OFFICEPULSE_ADMIN_PASSWORD") or click.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    try:
        accounts.create_admin(username, password)
    except accounts.AccountError as exc:
        fail(str(exc))
    audit.record("admin.create", username, username="cli")
    click.echo(f"Created admin '{username}'")


@click.command("export")
@with_appcontext
@click.argument("slug")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default="-")
@click.option("--labels", is_flag=True, help="Write choice labels instead of codes.")
@click.option("--questions", is_flag=True, help="Add a second header row with the question texts.")
@click.option("--lang", default="zh", show_default=True, help="Language of labels and question texts.")
def export_command(slug: str, output: str, labels: bool, questions: bool, lang: str) -> None:
    """Write a campaign's responses as CSV (same content as the admin download)."""
    campaign = campaigns.get_campaign(slug)
    if campaign is None:
        fail(f"no campaign '{slug}'")
    chunks = export.responses_csv(campaign, locale=lang, labels=labels, question_row=questions)
    if output == "-":
        for chunk in chunks:
            sys.stdout.buffer.write(chunk.encode("utf-8"))
        return
    with open(output, "w", encoding="utf-8", newline="") as fh:
        fh.writelines(chunks)
    click.echo(f"Wrote {output}", err=True)


@click.command("results")
@with_appcontext
@click.argument("slug")
def results_command(slug: str) -> None:
    """Print a campaign's results as JSON (the same as /admin/campaigns/SLUG/results.json)."""
    campaign = campaigns.get_campaign(slug)
    if campaign is None:
        fail(f"no campaign '{slug}'")
    click.echo(json.dumps(campaign_results(campaign).json(), ensure_ascii=False, indent=2))


@click.command("report")
@with_appcontext
@click.argument("slug")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="PDF file to write.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
def report_command(slug: str, output: str, lang: str) -> None:
    """Write a campaign's PDF report (cover, findings, every chart, key tables, method)."""
    campaign = campaigns.get_campaign(slug)
    if campaign is None:
        fail(f"no campaign '{slug}'")
    with open(output, "wb") as fh:
        fh.write(report_pdf(campaign_results(campaign), lang))
    click.echo(f"Wrote {output}")


DEMO_BATCH = 1000


@click.command("demo-data")
@with_appcontext
@click.argument("slug")
@click.option("--responses", "n", type=click.IntRange(1, 1_000_000), required=True, help="How many to add.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (same seed, same answers).")
def demo_data(slug: str, n: int, seed: int) -> None:
    """Fill a campaign with synthetic answers, through the same checks and write path as real ones."""
    campaign = campaigns.get_campaign(slug)
    if campaign is None:
        fail(f"no campaign '{slug}'")
    _fill(campaign, n, seed)


def _fill(campaign, n: int, seed: int) -> None:
    survey = definition(campaign.survey_version)
    forms = synthetic_answers(survey, n, seed=seed)
    with click.progressbar(length=n, label="Adding synthetic responses", file=sys.stderr) as bar:
        done = 0
        while done < n:
            batch = [validate(survey, next(forms)) for _ in range(min(DEMO_BATCH, n - done))]
            done += store_responses(campaign, batch)
            bar.update(len(batch))
    click.echo(f"Added {n} synthetic responses to '{campaign.name}'")


@click.command("bootstrap")
@with_appcontext
@click.option("--demo-responses", type=click.IntRange(0, 1_000_000), default=0,
              help="Fill the demo campaign with this many synthetic responses if it has none.")
@click.option("--qr", "qr_path", type=click.Path(dir_okay=False, writable=True, path_type=Path), default=None,
              help="Where to write the QR code of the survey's address (default: instance/qr-SLUG.png).")
def bootstrap(demo_responses: int, qr_path: Path | None) -> None:
    """Import the bundled surveys, open a demo campaign and create the admin if needed; print the URLs and
    write the QR code of the survey's address."""
    for path in bundled_paths():
        _import(path)
    open_rows = [r for r in campaigns.list_campaigns() if r.status == "open"]
    if open_rows:
        campaign = open_rows[0].campaign
    else:
        campaign = campaigns.open_campaign(DEMO_SURVEY, f"办公室工作质效测评（{campaigns.today():%Y-%m-%d}）")
    if accounts.get_user("admin") is None:
        password = os.environ.get("OFFICEPULSE_ADMIN_PASSWORD") or accounts.new_password()
        accounts.create_admin("admin", password)
        shown = "(from OFFICEPULSE_ADMIN_PASSWORD)" if os.environ.get("OFFICEPULSE_ADMIN_PASSWORD") else password
        click.echo(f"Admin login: admin / {shown}   (shown once; keep it safe)")
    else:
        click.echo("Admin login: admin (existing account; reset with flask --app wsgi create-admin)")
    responses = next(r.responses for r in campaigns.list_campaigns() if r.campaign.id == campaign.id)
    if demo_responses and not responses:
        _fill(campaign, demo_responses, seed=0)
    elif not responses:
        click.echo(f"Tip: fill it with demo answers: DEMO_RESPONSES=300 make run, or "
                   f"flask --app wsgi demo-data {campaign.slug} --responses 300")
    url = campaigns.public_url(campaign)
    click.echo(f"Survey ({campaign.name}): {url}")
    qr_path = qr_path or Path(current_app.instance_path) / f"qr-{campaign.slug}.png"
    qr_path.parent.mkdir(parents=True, exist_ok=True)
    qr_path.write_bytes(distribution.qr_png(url))
    click.echo(f"QR code of the survey: {qr_path}")
    admin = f"{url.split('/s/')[0]}/admin/"
    click.echo(f"Admin: {admin}   (printable poster: {admin}campaigns/{campaign.slug}/poster)")
