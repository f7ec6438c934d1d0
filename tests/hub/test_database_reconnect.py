"""The hub's PostgreSQL pool does not ping a connection before each use (that round trip was ~1 ms of
CPU per request, docs/deploy.md). What a dropped connection then costs: after the server ends the
hub's connections (a restart, a failover), a request that meets a dead one gets a fast 503 the client
retries, never a 500, and the next requests are served on fresh connections."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_requests_recover_after_the_server_drops_every_connection(app, client, keys_dir, database_url):
    assert client.get("/api/v1/trust/bundle").status_code == 200
    engine = app.state.engine
    with engine.connect() as connection:  # the pool's connection(s): their server pids
        pids = {connection.execute(text("SELECT pg_backend_pid()")).scalar_one()}
    killer = create_engine(database_url)
    with killer.connect() as connection:
        for pid in pids:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    killer.dispose()

    answers = [client.get("/api/v1/trust/bundle").status_code for _ in range(4)]
    # The request that meets the dead connection is a fast 503; SQLAlchemy then recycles every
    # connection older than that moment, so it is at most one per worker.
    assert 500 not in answers
    assert answers.count(503) <= 1
    assert answers[-2:] == [200, 200]
