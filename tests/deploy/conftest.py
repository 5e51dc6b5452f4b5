"""The deploy suites use the job suites' Redis fixtures."""

from tests.jobs.conftest import redis_url, rq_queue  # noqa: F401 - fixtures
