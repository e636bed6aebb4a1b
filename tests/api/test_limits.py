"""Finding 4: oversized evidence lists are refused (422 naming them) before any worker sees
them, so one client cannot hold a worker for the decision timeout."""

from __future__ import annotations

import time

import pytest

from service.api.limits import GROUPS_PER_ATTRIBUTE, LIST_LIMITS
from tests.api.conftest import Api, evidence, request_body


def test_twenty_thousand_protected_attributes_are_refused_at_once(api: Api) -> None:
    card = evidence()["model_card"]
    card["protected_attributes"] = [f"a{i}" for i in range(20_000)]
    started = time.perf_counter()

    response = api.decide(
        request_body(model_card=card, metrics={**evidence()["metrics"], "by_group": {}})
    )

    assert response.status_code == 422, response.text[:300]
    assert response.json()["error"] == "invalid_request"
    assert response.json()["field"] == "evidence.model_card.protected_attributes"
    assert "20000 items; at most 64" in response.json()["message"]
    assert time.perf_counter() - started < 2


def test_too_many_groups_of_one_attribute_are_refused(api: Api) -> None:
    metrics = evidence()["metrics"]
    groups = {f"g{i}": {"tpr": 0.9} for i in range(GROUPS_PER_ATTRIBUTE + 1)}
    metrics["by_group"] = {"age_band": groups}

    response = api.decide(request_body(metrics=metrics))

    assert response.status_code == 422
    assert response.json()["field"] == "evidence.metrics.by_group.age_band"


# The limits on lists inside a promotion request's documents (snapshots are monitoring's).
IN_PROMOTION = [(path, most) for path, most in LIST_LIMITS if "." in path]


@pytest.mark.parametrize(("path", "most"), IN_PROMOTION)
def test_a_list_at_its_limit_is_judged_not_refused(api: Api, path: str, most: int) -> None:
    documents = evidence()
    section, _, name = path.partition(".")
    holder = documents[section]
    holder[name] = (
        {f"k{i}": {} for i in range(most)} if name == "by_group" else [f"x{i}" for i in range(most)]
    )

    response = api.decide(request_body(**{section: holder}))

    assert response.status_code == 200, response.text[:300]
    holder[name] = (
        {f"k{i}": {} for i in range(most + 1)}
        if name == "by_group"
        else [f"x{i}" for i in range(most + 1)]
    )
    over = api.decide(request_body(**{section: holder}))
    assert over.status_code == 422, over.text[:300]
    assert over.json()["field"] == f"evidence.{path}"
