"""Live cgd-portal nodes and small catalogue servers on 127.0.0.1 for the federation tests."""

from __future__ import annotations

import threading
from pathlib import Path

from werkzeug.serving import make_server

from indexer.synthetic import demo_metadata, generate_survey

from ..conftest import app_config


class LiveServer:
    """A WSGI app served on 127.0.0.1 (a free port) from a thread."""

    def __init__(self, wsgi=None) -> None:
        self.wsgi = wsgi
        self.server = make_server("127.0.0.1", 0, self._dispatch, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _dispatch(self, environ, start_response):
        return self.wsgi(environ, start_response)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


class Node(LiveServer):
    """A whole cgd-portal (its own instance folder and catalogue) served on 127.0.0.1."""

    def __init__(self, root: Path, name: str, **config) -> None:
        from portal.app import create_app

        super().__init__()
        self.name = name
        self.app = create_app(
            app_config(root / name, BASE_URL=self.url, **config), start_jobs=False
        )
        self.wsgi = self.app
        self.runtime = self.app.extensions["cgd"]

    def close(self) -> None:
        super().close()
        self.runtime.close()

    def publish_demo(
        self, tmp: Path, *, org: str = "samata", rows: int = 300, seed: int = 11, **meta
    ) -> dict:
        """Publish the synthetic survey (through the real ingest pipeline) for ``org``."""
        from catalog.principal import system
        from catalog.services import organisations
        from portal.ingest import ingest_file

        with self.runtime.db.session() as s:
            try:
                organisations.get_organisation(s, org)
            except Exception:  # noqa: BLE001 - create it the first time
                organisations.create_organisation(
                    s, system(), slug=org, name=f"{org.title()} Collective"
                )
        metadata = demo_metadata()
        metadata.update(meta)
        path = tmp / f"{self.name}-{org}-{seed}.csv"
        generate_survey(rows, seed=seed).write_csv(path)
        return ingest_file(self.runtime, path, org, metadata, publish=True)

    def withdraw(self, slug: str) -> None:
        """Withdraw the public version of a dataset (as when consent is withdrawn)."""
        from catalog.principal import system
        from catalog.services import datasets as dataset_service

        with self.runtime.db.session() as s:
            ds = dataset_service.get_dataset(s, slug)
            dataset_service.withdraw_version(s, system(), ds.published_version)
