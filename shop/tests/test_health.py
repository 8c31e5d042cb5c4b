"""Liveness and readiness probes against the real database and cache."""

import time

import pytest
from django.db import connection
from django.urls import reverse


def test_healthz_answers_without_touching_the_database(client):
    # No django_db mark: any query here would raise and turn the answer into a 500.
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.content == b"ok"


@pytest.mark.django_db
def test_readyz_is_ready_when_database_and_cache_answer(client):
    response = client.get(reverse("readyz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "cache": "ok"}}


@pytest.mark.django_db(transaction=True)
def test_readyz_names_the_database_when_it_is_unreachable(client):
    connection.close()
    real_port = connection.settings_dict["PORT"]
    # Nothing listens on port 1: a real refused connection, as when PostgreSQL is down.
    connection.settings_dict["PORT"] = "1"
    try:
        response = client.get(reverse("readyz"))
    finally:
        connection.close()
        connection.settings_dict["PORT"] = real_port

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "unavailable", "cache": "ok"},
    }
    # The store recovers by itself once the database answers again.
    assert client.get(reverse("readyz")).status_code == 200


@pytest.mark.django_db
def test_readyz_reports_an_unreachable_cache_as_degraded_and_stays_in_the_pool(client, settings):
    # Every host shares the one Redis: a 503 here would take them all out of the load balancer
    # at once, though the store works without it.
    settings.CACHES = {
        alias: {**config, "LOCATION": "redis://127.0.0.1:1/0"}  # nothing listens there
        for alias, config in settings.CACHES.items()
    }
    response = client.get(reverse("readyz"))
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "checks": {"database": "ok", "cache": "degraded"},
    }


@pytest.mark.django_db
def test_probes_answer_at_once_while_redis_is_frozen_and_readyz_sees_it_back(client, redis_server):
    redis_server.freeze()
    timings = {}
    for probe in ("healthz", "readyz", "readyz"):
        started = time.perf_counter()
        response = client.get(reverse(probe))
        timings.setdefault(probe, []).append(time.perf_counter() - started)
        assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "cache": "degraded"}
    # readyz waits for Redis at most REDIS_TIMEOUT, once; healthz never asks it.
    assert max(timings["readyz"]) < 1.0, timings
    assert max(timings["healthz"]) < 0.1, timings

    redis_server.thaw()
    time.sleep(0.6)  # the fixture's RETRY_AFTER
    assert client.get(reverse("readyz")).json()["status"] == "ready"


def test_probes_refuse_post(client):
    assert client.post(reverse("healthz")).status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize("probe", ["healthz", "readyz"])
def test_probes_answer_a_load_balancer_calling_by_ip_address(client, probe):
    response = client.get(reverse(probe), HTTP_HOST="10.0.0.7:8000")
    assert response.status_code == 200
    assert "Set-Cookie" not in response


@pytest.mark.django_db
def test_other_pages_still_refuse_an_unknown_host(client):
    response = client.get("/accounts/login/", HTTP_HOST="10.0.0.7:8000")
    assert response.status_code == 400
    assert "We could not understand that request" in response.content.decode()
