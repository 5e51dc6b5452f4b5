"""The ``cgd`` command line."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from schema.errors import CGDError


def _fail(message: str, code: int = 1):
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _runtime(runner: str = "inline"):
    from indexer.runtime import build_runtime
    from portal.config import load_config

    return build_runtime(load_config(), runner=runner)


class CLIGroup(click.Group):
    """Turns domain errors into one line on stderr and a non-zero exit."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except CGDError as err:
            # a problem that only repeats the message (a reader's single problem) is not repeated
            details = "; ".join(str(p) for p in err.problems[:5] if str(p) not in err.message)
            more = f" (+{len(err.problems) - 5} more)" if len(err.problems) > 5 else ""
            _fail(f"{err.message}{' ' + details if details else ''}{more}")


@click.group(cls=CLIGroup)
def main() -> None:
    """cgd-portal: citizen-generated data, anonymised and open."""


@main.command()
def init() -> None:
    """Create the instance folder and the catalogue database."""
    rt = _runtime()
    click.echo(f"instance ready: {rt.config['INSTANCE_PATH']} ({rt.db.engine.dialect.name})")
    rt.close()


@main.command()
@click.option("--rows", default=1200, show_default=True, help="Respondents in the demo survey.")
def demo(rows: int) -> None:
    """Generate the synthetic demo survey and publish it, then exit."""
    from portal.demo import load_demo

    rt = _runtime()
    try:
        slug = load_demo(rt, rows=rows)
    finally:
        rt.close()
    click.echo(f"demo published: /datasets/{slug}")


# Addresses that mean "every interface": no reader can use them in a link.
_ALL_INTERFACES = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 - compared, not bound


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
def serve(host: str, port: int, threads: int) -> None:
    """Serve the portal with gunicorn (one process, threads, embedded job worker)."""
    from gunicorn.app.base import BaseApplication

    from portal.app import create_app
    from portal.logs import gunicorn_logger_class

    overrides = {}
    if not (os.environ.get("CGD_BASE_URL") or os.environ.get("CGD_BASE_URL_FILE")):
        # Links in pages, DCAT and data packages must name the address actually served.
        shown = "127.0.0.1" if host in _ALL_INTERFACES else host
        shown = f"[{shown}]" if ":" in shown else shown
        overrides["BASE_URL"] = f"http://{shown}:{port}"
    app = create_app(overrides)

    class _Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", 1)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("accesslog", "-")
            self.cfg.set("logger_class", gunicorn_logger_class())

        def load(self):
            return app

    click.echo(f"serving on http://{host}:{port} (public address {app.config['BASE_URL']})")
    if overrides and host in _ALL_INTERFACES:
        click.echo("set CGD_BASE_URL to the address readers use, so that links point there")
    _Server().run()


@main.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--org", "org_slug", required=True, help="Slug of the publishing organisation.")
@click.option(
    "--metadata", "metadata_path", required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option(
    "--publish", is_flag=True, help="Publish straight away (approves the scrubbed free text)."
)
def ingest(path: Path, org_slug: str, metadata_path: Path, publish: bool) -> None:
    """Ingest a data file with its metadata (JSON) for an organisation."""
    from portal.ingest import ingest_file

    if not path.exists():
        _fail(f"{path}: no such file")
    metadata = _read_metadata(metadata_path)
    rt = _runtime()
    try:
        result = ingest_file(rt, path, org_slug, metadata, publish=publish)
    finally:
        rt.close()
    click.echo(json.dumps(result))


def _read_metadata(metadata_path: Path) -> dict:
    if not metadata_path.exists():
        _fail(f"{metadata_path}: no such file")
    try:
        metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        _fail(f"{metadata_path}: not valid JSON ({exc})")
    if not isinstance(metadata, dict):
        _fail(f"{metadata_path}: the metadata must be a JSON object")
    return metadata


@main.command("kobo-pull")
@click.option("--server", required=True, help="KoboToolbox server, e.g. https://kf.kobotoolbox.org")
@click.option("--asset", required=True, help="The form's asset uid.")
@click.option("--org", "org_slug", required=True, help="Slug of the publishing organisation.")
@click.option(
    "--metadata", "metadata_path", required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option("--dataset", help="Add a new version to this dataset (slug or id).")
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File holding the KoboToolbox API token (else CGD_KOBO_TOKEN).",
)
@click.option(
    "--publish", is_flag=True, help="Publish straight away (approves the scrubbed free text)."
)
def kobo_pull(
    server: str,
    asset: str,
    org_slug: str,
    metadata_path: Path,
    dataset: str | None,
    token_file: Path | None,
    publish: bool,
) -> None:
    """Pull a KoboToolbox form's submissions and ingest them like `cgd ingest`.

    The token is read from --token-file or CGD_KOBO_TOKEN, never from the
    command line (where `ps` would show it), and is not stored.
    """
    from portal.ingest import pull_from_kobo

    if token_file is not None:
        try:
            token = token_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            _fail(f"{token_file}: cannot read the token ({type(exc).__name__})")
    else:
        token = os.environ.get("CGD_KOBO_TOKEN", "").strip()
    if not token:
        _fail("no KoboToolbox token: set CGD_KOBO_TOKEN or pass --token-file")
    metadata = _read_metadata(metadata_path)
    rt = _runtime()
    try:
        result = pull_from_kobo(
            rt, server, asset, token, org_slug, metadata, publish=publish, dataset_ref=dataset
        )
    finally:
        rt.close()
    click.echo(json.dumps(result))


@main.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--language",
    "languages",
    multiple=True,
    type=click.Choice(["en", "ne"]),
    default=("en", "ne"),
    show_default=True,
)
@click.option("--sogi", is_flag=True, help="Add the optional SOGI question (sensitive data).")
def template(path: Path, languages: tuple[str, ...], sogi: bool) -> None:
    """Write the CGD XLSForm template (standard questions) for KoboToolbox and ODK."""
    from schema.xlsform import build_xlsform

    build_xlsform(path, tuple(languages), include_sogi=sogi)
    click.echo(f"XLSForm written: {path}")


@main.command()
@click.option("--burst", is_flag=True, help="Exit once the queue is empty.")
@click.option("--simple", is_flag=True, help="Run jobs in this process (no work horse per job).")
def worker(burst: bool, simple: bool) -> None:
    """Run an RQ worker on CGD_REDIS_URL (ingest, publish, harvest and reindex jobs)."""
    from portal.worker import main as run_worker

    run_worker(burst=burst, simple=simple)


@main.command()
def reindex() -> None:
    """Rebuild the search index from the catalogue and switch to it in one step."""
    from indexer.pipeline import reindex_all

    rt = _runtime()
    try:
        n = reindex_all(rt.ctx)
    finally:
        rt.close()
    click.echo(f"reindexed {n} datasets")


@main.group()
def users() -> None:
    """Manage people's accounts."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", default="")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--admin", is_flag=True, help="Make a site administrator.")
@click.option("--org", "org_slug", help="Add to this organisation...")
@click.option("--role", default="member", show_default=True, help="...with this role.")
def users_create(
    email: str, name: str, password: str, admin: bool, org_slug: str | None, role: str
) -> None:
    """Create a person's account."""
    from catalog.principal import system
    from catalog.services import organisations
    from catalog.services import users as user_service

    rt = _runtime()
    try:
        with rt.db.session() as session:
            user = user_service.create_user(
                session, system("cli"), email=email, password=password, name=name, is_admin=admin
            )
            if org_slug:
                org = organisations.get_organisation(session, org_slug)
                organisations.set_membership(session, system("cli"), org, user, role)
            click.echo(f"created user {user.email}{' (administrator)' if admin else ''}")
    finally:
        rt.close()


@main.group()
def clients() -> None:
    """Manage OAuth2 applications."""


@clients.command("create")
@click.option(
    "--org", "org_slug", required=True, help="Slug of the organisation the application acts for."
)
@click.option("--name", required=True)
@click.option(
    "--owner", "owner_email", required=True, help="E-mail of the member who answers for it."
)
@click.option(
    "--scope", "scopes", multiple=True, required=True, help="A scope it may ask for (repeat)."
)
@click.option(
    "--redirect-uri", "redirect_uris", multiple=True, help="Where codes are sent (repeat)."
)
@click.option("--public", is_flag=True, help="No secret: authorisation code with PKCE only.")
def clients_create(org_slug, name, owner_email, scopes, redirect_uris, public) -> None:
    """Register an application; prints its client id and secret (shown once)."""
    from catalog.principal import system
    from catalog.services import clients as client_service
    from catalog.services import organisations
    from catalog.services import users as user_service

    rt = _runtime()
    try:
        with rt.db.session() as session:
            org = organisations.get_organisation(session, org_slug)
            owner = user_service.get_user_by_email(session, owner_email)
            client, secret = client_service.register_client(
                session,
                system("cli"),
                org,
                name=name,
                redirect_uris=list(redirect_uris),
                scopes=list(scopes),
                confidential=not public,
                owner=owner,
            )
            click.echo(f"client_id: {client.client_id}")
            if secret:
                click.echo(f"client_secret: {secret}")
    finally:
        rt.close()


@main.group()
def orgs() -> None:
    """Manage organisations."""


@orgs.command("create")
@click.argument("slug")
@click.option("--name", required=True)
@click.option("--kind", default="cso", show_default=True)
def orgs_create(slug: str, name: str, kind: str) -> None:
    """Create an organisation."""
    from catalog.principal import system
    from catalog.services import organisations

    rt = _runtime()
    try:
        with rt.db.session() as session:
            org = organisations.create_organisation(
                session, system("cli"), slug=slug, name=name, kind=kind
            )
            click.echo(f"created organisation {org.slug}")
    finally:
        rt.close()


@main.group()
def harvest() -> None:
    """Harvest other catalogues (CKAN, DCAT, cgd-portal nodes) configured by site administrators."""


@harvest.command("add")
@click.argument("name")
@click.argument("url")
@click.option("--kind", required=True, type=click.Choice(["ckan", "dcat", "cgd"]))
@click.option("--title", default="")
@click.option(
    "--every", "frequency_hours", type=int, help="Harvest again after this many hours (with --due)."
)
@click.option("--fq", help="CKAN filter query, e.g. organization:some-cso.")
def harvest_add(
    name: str, url: str, kind: str, title: str, frequency_hours: int | None, fq: str | None
) -> None:
    """Register a harvest source."""
    from catalog.principal import system
    from catalog.services import harvest as harvest_service

    rt = _runtime()
    try:
        with rt.db.session() as session:
            config = {"fq": fq} if fq else {}
            harvest_service.create_source(
                session,
                system("cli"),
                name=name,
                url=url,
                kind=kind,
                title=title,
                config=config,
                frequency_hours=frequency_hours,
            )
        click.echo(f"added harvest source {name} ({kind}) {url}")
    finally:
        rt.close()


@harvest.command("run")
@click.argument("names", nargs=-1)
@click.option("--due", is_flag=True, help="Every active source whose frequency says it is due.")
def harvest_run(names: tuple[str, ...], due: bool) -> None:
    """Harvest sources now and print each one's report (created/updated/withdrawn/failed)."""
    from catalog.services import harvest as harvest_service
    from indexer.harvest import harvest_now

    rt = _runtime()
    failed = False
    try:
        with rt.db.session() as session:
            chosen = [
                s.name
                for s in (
                    harvest_service.due_sources(session)
                    if due
                    else harvest_service.list_sources(session)
                )
            ]
        for name in names or chosen:
            result = harvest_now(rt.ctx, name)
            failed = failed or result["status"] != "succeeded"
            click.echo(
                json.dumps(
                    {k: result[k] for k in ("source", "status", "counts", "error")}
                    | {"report": result["report"]}
                )
            )
    finally:
        rt.close()
    if failed:
        _fail("a harvest failed (see its report)")


@harvest.command("list")
def harvest_list() -> None:
    """List the harvest sources and their last run."""
    from catalog.services import harvest as harvest_service

    rt = _runtime()
    try:
        with rt.db.session() as session:
            for s in harvest_service.list_sources(session):
                last = s.runs[-1] if s.runs else None
                status = (
                    f"{last.status} {last.finished_at:%Y-%m-%d %H:%M}"
                    if last and last.finished_at
                    else "never"
                )
                click.echo(f"{s.name}\t{s.kind}\t{s.url}\t{status}")
    finally:
        rt.close()


if __name__ == "__main__":
    main()
