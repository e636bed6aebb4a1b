"""POST /v1/replay (admin) through the real app: decisions recorded by the app itself, judged
again under a kept revision or an uploaded policy archive; nothing recorded."""

from __future__ import annotations

import gzip
import io
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.api import routes_replay
from service.engine.bundle import bundle_bytes
from service.engine.policyset import read_policy_set
from tests.api.conftest import Api, evidence, in_process, request_body, serving
from tests.conftest import POLICY_DIR, never_finishing, raise_auc_floor


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The app with three recorded staging decisions: two allows and a deny."""
    with in_process(tmp_path_factory.mktemp("replay") / "home", fast_path=False) as api:
        metrics = evidence()["metrics"]
        metrics["values"]["auc"] = 0.71
        low_auc = request_body(metrics=metrics)
        answers = [api.decide(body).json() for body in (request_body(), request_body(), low_auc)]
        assert [a["outcome"] for a in answers] == ["allow", "allow", "deny"], answers
        yield api


@pytest.fixture(scope="module")
def raised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The policies with the high tier's staging AUC floor raised above the fixture's AUC."""
    policies = tmp_path_factory.mktemp("raised") / "policies"
    shutil.copytree(POLICY_DIR, policies)
    return raise_auc_floor(policies, "staging", "0.85")


def _replay(
    api: Api, role: str | None = "admin", content_type: str | None = None, **request: Any
) -> httpx.Response:
    headers = api.headers(role)
    if content_type is not None:
        headers["Content-Type"] = content_type
    return api.client.post("/v1/replay", headers=headers, **request)


def _tar_gz(members: dict[str, bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return gzip.compress(raw.getvalue())


def _records(api: Api) -> int:
    listed = api.client.get("/v1/audit", params={"limit": 1}, headers=api.headers("auditor"))
    seq: int = listed.json()["records"][0]["seq"]
    return seq


def test_only_an_admin_may_replay(api: Api) -> None:
    for role in ("gate", "auditor", "approver"):
        assert _replay(api, role, json={"revision": "sha256:" + "0" * 64}).status_code == 403
    assert _replay(api, None, json={}).status_code == 401


def test_the_revision_in_force_flips_nothing(api: Api) -> None:
    revision = api.client.get("/v1/policies", headers=api.headers("auditor")).json()["revision"]
    answer = _replay(api, json={"revision": revision})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["replayed"], body["unchanged"], body["flipped"]) == (3, 3, 0)
    assert body["policies"] == f"revision {revision} as kept in the ledger"


def test_an_uploaded_bundle_lists_the_allows_it_would_deny_and_records_nothing(
    api: Api, raised: Path
) -> None:
    before = _records(api)
    answer = _replay(
        api,
        content=bundle_bytes(read_policy_set(raised)),
        content_type="application/gzip",
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["transitions"] == {"allow -> deny": 2}
    assert {f["reasons_added"][0] for f in body["flips"]} == {"METRIC_BELOW_FLOOR"}
    assert (body["unchanged"], body["changed"]) == (1, 0)  # the deny was below the floor
    assert _records(api) == before


def test_a_policy_directory_archive_replays_as_the_bundle_does(api: Api, raised: Path) -> None:
    """`tar -czf policies.tar.gz -C policies .`: the thresholds as YAML, checked on loading."""
    policy_set = read_policy_set(raised)
    archive = _tar_gz({f"./{rel}": content for rel, content in policy_set.contents.items()})
    answer = _replay(api, content=archive, content_type="application/gzip")
    assert answer.status_code == 200, answer.text
    assert answer.json()["transitions"] == {"allow -> deny": 2}
    assert answer.json()["revision"] == policy_set.revision


@pytest.mark.parametrize(
    ("content_type", "body", "status", "words"),
    [
        ("text/plain", b"policies", 415, "expected application/json"),
        ("application/json", b'{"revision": "HEAD"}', 422, "revision: expected a policy revision"),
        ("application/json", b"[1]", 422, 'expected a JSON object {"revision"'),
        ("application/json", b"[" * 5000 + b"]" * 5000, 422, 'expected a JSON object {"rev'),
        ("application/json", b'{"revision": "sha256:' + b"0" * 64 + b'"}', 404, "no policy"),
        ("application/gzip", b"not gzip", 422, "expected a gzip-compressed tar"),
    ],
)
def test_a_body_it_cannot_use_gets_an_error_naming_what_was_expected(
    api: Api, content_type: str, body: bytes, status: int, words: str
) -> None:
    answer = _replay(api, content=body, content_type=content_type)
    assert answer.status_code == status, answer.text
    assert words in answer.json()["message"]


def test_an_archive_member_leaving_the_directory_is_refused(api: Api, tmp_path: Path) -> None:
    escape = _tar_gz({"../../escaped.rego": b"package escaped\n"})
    answer = _replay(api, content=escape, content_type="application/gzip")
    assert answer.status_code == 422, answer.text
    assert "outside the destination" in answer.json()["message"]


def test_policies_that_do_not_compile_are_named(api: Api, raised: Path) -> None:
    broken = dict(read_policy_set(raised).contents)
    broken["promotion/stages.rego"] += b"\nnot rego\n"
    answer = _replay(
        api,
        content=_tar_gz(broken),
        content_type="application/gzip",
    )
    assert answer.status_code == 422
    assert answer.json()["error"] == "policy_load_error"
    assert "promotion/stages.rego" in answer.json()["message"]


def test_an_unknown_gate_is_refused_before_anything_is_judged(api: Api) -> None:
    answer = _replay(api, json={"revision": "sha256:" + "0" * 64}, params={"gate": "deploy"})
    assert answer.status_code == 422 and "gate: expected one of" in answer.json()["message"]


def _symlink_chain_escaping_to(outside: Path, name: str) -> bytes:
    """An archive whose symbolic links pass tarfile's `data` filter on a Python without the fix
    for CVE-2025-4517: past PATH_MAX, os.path.realpath stops resolving links, so the filter
    sees `escape` inside the directory while the kernel resolves it to `outside`, and the
    regular file `escape/<name>` is written there."""
    long_dir, steps, path = "d" * 247, "abcdefghijklmnop", ""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for step in steps:
            directory = tarfile.TarInfo(os.path.join(path, long_dir))
            directory.type, directory.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(directory)
            link = tarfile.TarInfo(os.path.join(path, step))
            link.type, link.linkname = tarfile.SYMTYPE, long_dir
            tar.addfile(link)
            path = os.path.join(path, long_dir)
        deep = os.path.join(*steps, "l" * 254)
        up = tarfile.TarInfo(deep)
        up.type, up.linkname = tarfile.SYMTYPE, os.path.join(*[".."] * len(steps))
        tar.addfile(up)
        escape = tarfile.TarInfo("escape")
        escape.type = tarfile.SYMTYPE
        escape.linkname = deep + "/" + "../" * (len(steps) + 1) + str(outside).lstrip("/")
        tar.addfile(escape)
        content = b"package written_outside\n"
        written = tarfile.TarInfo(f"escape/{name}")
        written.size = len(content)
        tar.addfile(written, io.BytesIO(content))
    return gzip.compress(raw.getvalue())


def test_a_symlink_chain_cannot_write_outside_the_replays_directory(
    api: Api, tmp_path: Path
) -> None:
    assert len(tempfile.gettempdir()) < 64, "the chain is sized for a short temporary directory"
    outside = tmp_path / "outside"
    outside.mkdir()
    archive = _symlink_chain_escaping_to(outside, "written.rego")
    answer = _replay(api, content=archive, content_type="application/gzip")
    assert list(outside.iterdir()) == []
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "policy_load_error"
    assert "'a' is a symbolic link" in answer.json()["message"]


def _linked(kind: bytes, linkname: str) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        policy = b"package inside\n"
        info = tarfile.TarInfo("inside.rego")
        info.size = len(policy)
        tar.addfile(info, io.BytesIO(policy))
        link = tarfile.TarInfo("link.rego")
        link.type, link.linkname = kind, linkname
        tar.addfile(link)
    return gzip.compress(raw.getvalue())


@pytest.mark.parametrize(
    ("kind", "linkname", "words"),
    [
        (tarfile.SYMTYPE, "inside.rego", "'link.rego' is a symbolic link to 'inside.rego'"),
        (tarfile.LNKTYPE, "inside.rego", "'link.rego' is a hard link to 'inside.rego'"),
        (tarfile.FIFOTYPE, "", "'link.rego' is a device or a FIFO"),
    ],
)
def test_an_archive_member_other_than_a_file_or_directory_is_refused_by_name(
    api: Api, kind: bytes, linkname: str, words: str
) -> None:
    answer = _replay(api, content=_linked(kind, linkname), content_type="application/gzip")
    assert answer.status_code == 422, answer.text
    assert words in answer.json()["message"]


@pytest.mark.parametrize(
    ("members", "words"),
    [
        ({"x.rego": b"a", "x.rego/y.rego": b"b"}, "'x.rego/y.rego' cannot be unpacked"),
        ({"a" * 300 + ".rego": b"package a\n"}, "cannot be unpacked: File name too long"),
        ({".": b"package a\n"}, "'.' cannot be unpacked: Is a directory"),
    ],
)
def test_an_archive_member_that_cannot_be_written_is_a_422_not_a_500(
    api: Api, members: dict[str, bytes], words: str
) -> None:
    answer = _replay(api, content=_tar_gz(members), content_type="application/gzip")
    assert answer.status_code == 422, answer.text
    assert words in answer.json()["message"]
    assert "mlgate-replay-" not in answer.json()["message"]  # no server path


@pytest.fixture(scope="module")
def live_admin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """`mlgate serve` in a subprocess, so a request that would hang it times out in the test."""
    with serving(tmp_path_factory.mktemp("replay-live")) as server:
        headers = {"Authorization": f"Bearer {server.tokens['admin']}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=20) as client:
            yield client


def _negative_size() -> bytes:
    """Two members, the second's size -512 in base-256: its data "ends" at its own header, so
    tarfile without the fix for CVE-2025-8194 reads that header again, for ever."""
    first = tarfile.TarInfo("first.rego").tobuf(format=tarfile.GNU_FORMAT)
    header = bytearray(tarfile.TarInfo("again.rego").tobuf(format=tarfile.GNU_FORMAT))
    header[124:136] = b"\xff" + (256**11 - 512).to_bytes(11, "big")
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header[:512])
    return gzip.compress(first + bytes(header) + b"\0" * 1024)


def _quadratic_pax_header() -> bytes:
    """A 4 MiB PAX header of digits (4 KiB compressed), which tarfile without the fix for
    CVE-2024-6232 parses in hours."""
    header = tarfile.TarInfo("././@PaxHeader")
    header.type, header.size = tarfile.XHDTYPE, 4 * 1024 * 1024
    raw = header.tobuf(format=tarfile.USTAR_FORMAT) + b"9" * header.size + b"\0" * 1024
    return gzip.compress(raw)


@pytest.mark.parametrize(
    ("archive", "words"),
    [
        (_negative_size(), "header at byte 512 declares -512 bytes"),
        (_quadratic_pax_header(), "extended header at byte 0 declares 4194304 bytes"),
    ],
    ids=["negative-size", "quadratic-pax-header"],
)
def test_an_archive_crafted_to_hang_tarfile_is_refused_at_once(
    live_admin: httpx.Client, archive: bytes, words: str
) -> None:
    answer = live_admin.post(
        "/v1/replay", content=archive, headers={"Content-Type": "application/gzip"}
    )
    assert answer.status_code == 422, answer.text
    assert words in answer.json()["message"]


def test_a_policy_that_never_finishes_does_not_hold_the_service(
    tmp_path: Path, raised: Path
) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(raised, policies)
    archive = bundle_bytes(read_policy_set(never_finishing(policies)))
    (tmp_path / "home").mkdir()
    with (
        serving(tmp_path / "home", MLGATE_DECISION_TIMEOUT_SECONDS="2") as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        decided = client.post(
            "/v1/decisions/promotion",
            json=request_body(),
            headers={"Authorization": f"Bearer {server.tokens['gate']}"},
        )
        assert decided.status_code == 200, decided.text
        answer = client.post(
            "/v1/replay",
            content=archive,
            headers={
                "Authorization": f"Bearer {server.tokens['admin']}",
                "Content-Type": "application/gzip",
            },
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["unreplayable"] == 1, answer.text
    [problem] = answer.json()["problems"]
    assert "took longer than 2 s under these policies" in problem["problem"]


def test_more_decisions_than_one_request_may_replay_are_refused_naming_the_filters(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(routes_replay, "MAX_REPLAYED", 2)  # the app holds 3 decisions
    revision = api.client.get("/v1/policies", headers=api.headers("auditor")).json()["revision"]
    answer = _replay(api, json={"revision": revision})
    assert answer.status_code == 422, answer.text
    assert "expected at most 2 decisions in one replay; more match" in answer.json()["message"]
    promotions = _replay(api, json={"revision": revision}, params={"gate": "promotion"})
    assert promotions.status_code == 422
    monkeypatch.setattr(routes_replay, "MAX_REPLAYED", 3)
    assert _replay(api, json={"revision": revision}).status_code == 200
