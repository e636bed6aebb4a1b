"""GET /v1/policies/{revision}: every revision that decided is on record in the ledger, with its
files, from start-up, a reload, or the decision worker processes; and no answer gives the
policies in force under another revision's name."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.api.app import create_app
from service.api.auth import add_token
from service.audit.kinds import POLICY_REVISION
from service.audit.ledger import Ledger
from service.engine.policyset import read_policy_set, revision_of
from service.settings import Settings
from tests.api.conftest import TestClient, request_body


@dataclass
class App:
    client: TestClient
    headers: dict[str, dict[str, str]]
    policies: Path
    ledger: Ledger

    def get(self, url: str, role: str = "auditor", **options: Any) -> httpx.Response:
        return self.client.get(url, headers=self.headers[role], **options)

    def revisions_on_record(self) -> list[str]:
        return [r.decision_id for r in self.ledger.find(kind=POLICY_REVISION, limit=1000)]


def _app(tmp_path: Path, policies: Path, workers: int = 0) -> Iterator[App]:
    settings = Settings(home=tmp_path / "home", policy_dir=policies)
    roles = {"admin": "platform", "gate": "ci", "auditor": "reviewer"}
    headers = {
        role: {"Authorization": f"Bearer {add_token(settings.resolved_tokens_file, who, role)}"}
        for role, who in roles.items()
    }
    app = create_app(settings, engines=1, workers=workers)
    with TestClient(app) as client:
        yield App(client, headers, policies, app.state.runtime.ledger)
    app.state.runtime.close()


@pytest.fixture
def app(tmp_path: Path, policy_copy: Callable[[], Path]) -> Iterator[App]:
    """An app of its own over a copy of the policies, which a test may change."""
    yield from _app(tmp_path, policy_copy())


def _raise_floor(policies: Path) -> None:
    config = policies / "data" / "promotion.yaml"
    config.write_text(config.read_text().replace("floors: {auc: 0.85}", "floors: {auc: 0.99}"))


def test_the_revision_in_force_at_start_up_is_on_record_with_its_files(app: App) -> None:
    revision = app.get("/v1/policies").json()["revision"]

    answer = app.get(f"/v1/policies/{revision}")

    assert answer.status_code == 200
    body = answer.json()
    assert app.revisions_on_record() == [revision]
    on_disk = {
        rel: (app.policies / rel).read_bytes() for rel in read_policy_set(app.policies).files
    }
    assert {f["path"]: f["content"].encode() for f in body["files"]} == on_disk
    for entry in body["files"]:
        assert entry["digest"] == "sha256:" + hashlib.sha256(entry["content"].encode()).hexdigest()
        assert entry["size"] == len(on_disk[entry["path"]])
    assert revision_of({f["path"]: f["content"].encode() for f in body["files"]}) == revision
    assert body["record"] == 1


def test_a_reload_records_the_new_revision_once_and_the_old_stays_readable(app: App) -> None:
    old = app.get("/v1/policies").json()["revision"]
    old_config = (app.policies / "data" / "promotion.yaml").read_text()
    _raise_floor(app.policies)

    first = app.client.post("/v1/policies/reload", headers=app.headers["admin"]).json()
    second = app.client.post("/v1/policies/reload", headers=app.headers["admin"]).json()

    new = first["revision"]
    assert new != old and second["revision"] == new
    assert sorted(app.revisions_on_record()) == sorted([old, new])
    decided = app.client.post(
        "/v1/decisions/promotion", json=request_body("staging"), headers=app.headers["gate"]
    ).json()
    assert decided["policy_revision"] == new
    one = app.get(f"/v1/policies/{old}", params={"file": "data/promotion.yaml"}).json()
    assert [f["content"] for f in one["files"]] == [old_config]
    now = app.get(f"/v1/policies/{new}", params={"file": "data/promotion.yaml"}).json()
    assert "floors: {auc: 0.99}" in now["files"][0]["content"]


def test_asking_the_policies_for_another_revision_redirects_to_its_kept_files(app: App) -> None:
    old = app.get("/v1/policies").json()["revision"]
    _raise_floor(app.policies)
    app.client.post("/v1/policies/reload", headers=app.headers["admin"])

    redirected = app.get("/v1/policies", params={"revision": old}, follow_redirects=False)
    followed = app.get("/v1/policies", params={"revision": old})

    assert redirected.status_code == 307
    assert redirected.headers["location"] == f"/v1/policies/{old}"
    assert followed.json()["revision"] == old
    assert "rules" not in followed.json()


def test_asking_the_policies_for_the_revision_in_force_answers_them(app: App) -> None:
    revision = app.get("/v1/policies").json()["revision"]

    answer = app.get("/v1/policies", params={"revision": revision}, follow_redirects=False)

    assert answer.status_code == 200
    assert answer.json()["revision"] == revision and answer.json()["rules"]


def test_a_revision_not_on_record_is_404_and_no_revision_at_all_is_422(app: App) -> None:
    unknown = "sha256:" + "ab" * 32

    missing = app.get(f"/v1/policies/{unknown}")
    malformed = app.get("/v1/policies/sha256:HEAD")
    old_style = app.get("/v1/policies", params={"revision": "old"})

    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    assert f"no policy revision {unknown} is on record" in missing.json()["message"]
    for answer in (malformed, old_style):
        assert answer.status_code == 422
        assert answer.json()["field"] == "revision"
        assert "64 lowercase hex digits" in answer.json()["message"]


def test_a_file_the_revision_lacks_is_404_naming_the_files_it_has(app: App) -> None:
    revision = app.get("/v1/policies").json()["revision"]

    answer = app.get(f"/v1/policies/{revision}", params={"file": "nope.rego"})

    assert answer.status_code == 404
    assert "has no file 'nope.rego'; it has: " in answer.json()["message"]


def test_any_role_may_read_a_revision_and_no_token_may_not(app: App) -> None:
    revision = app.get("/v1/policies").json()["revision"]

    assert app.get(f"/v1/policies/{revision}", role="gate").status_code == 200
    assert app.client.get(f"/v1/policies/{revision}").status_code == 401


def test_decision_workers_decide_under_a_revision_on_record(
    tmp_path: Path, policy_copy: Callable[[], Path]
) -> None:
    for app in _app(tmp_path, policy_copy(), workers=1):
        decided = app.client.post(
            "/v1/decisions/promotion", json=request_body("staging"), headers=app.headers["gate"]
        ).json()

        assert app.revisions_on_record() == [decided["policy_revision"]]
        kept = app.get(f"/v1/policies/{decided['policy_revision']}")
        assert kept.status_code == 200
