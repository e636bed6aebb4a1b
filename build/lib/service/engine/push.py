"""Policies and data onto an OPA server through its Policy and Data APIs, for setups that do not
load bundles. The revision document is removed first and written last, so a server in the
middle of a push (or left half-pushed by a failure) allows nothing."""

from __future__ import annotations

from dataclasses import dataclass

import requests
from opa_client import OpaClient

from service.engine.policyset import PolicySet, data_documents, is_test_module
from service.engine.server import REVISION_PACKAGE, REVISION_RULE
from service.errors import PolicyEngineUnavailable

# Our modules' ids on the server; others' policies are left alone.
POLICY_ID_PREFIX = "mlgate/"


@dataclass(frozen=True)
class PushReport:
    revision: str
    policies: tuple[str, ...]  # policy ids written
    removed: tuple[str, ...]  # ids of our earlier policies no longer in the set
    data_paths: tuple[str, ...]  # data paths written, slash-separated


def push_policies(client: OpaClient, policy_set: PolicySet) -> PushReport:
    """Replace the server's mlgate policies and data with `policy_set`'s.

    Raises PolicyEngineUnavailable naming the step that failed (the server then holds no
    revision document, so a server backend denies until a push succeeds).
    """
    step = "removing the revision document"
    try:
        _delete_data(client, REVISION_PACKAGE)
        step = "listing policies"
        existing = [p for p in client.get_policies_list() if p.startswith(POLICY_ID_PREFIX)]
        wanted = {
            POLICY_ID_PREFIX + rel: source
            for rel, source in sorted(policy_set.modules.items())
            if not is_test_module(rel)
        }
        paths = []
        for path, document in sorted(data_documents(policy_set).items()):
            step = f"writing data {'/'.join(path)}"
            client.update_or_create_data(document, "/".join(path))
            paths.append("/".join(path))
        removed = sorted(set(existing) - set(wanted))
        for policy_id in removed:
            step = f"removing policy {policy_id}"
            client.delete_policy(policy_id)
        step = "writing policies"
        _put_policies(client, wanted)
        step = "writing the revision document"
        client.update_or_create_data({REVISION_RULE: policy_set.revision}, REVISION_PACKAGE)
    except requests.RequestException as exc:
        raise PolicyEngineUnavailable(f"push failed while {step}: {exc}") from None
    except Exception as exc:  # opa-python-client's own errors carry .message
        detail = getattr(exc, "message", None) or str(exc)
        raise PolicyEngineUnavailable(f"push failed while {step}: {detail}") from None
    return PushReport(policy_set.revision, tuple(wanted), tuple(removed), tuple(paths))


def _delete_data(client: OpaClient, path: str) -> None:
    try:
        client.delete_data(path)
    except Exception as exc:
        if getattr(exc, "expression", None) != "resource_not_found":
            raise


def _put_policies(client: OpaClient, wanted: dict[str, str]) -> None:
    """PUT every module; OPA compiles each against those it holds, so a module calling a
    function of one not yet written fails: such modules are tried again after the others."""
    pending = dict(wanted)
    while pending:
        failed: dict[str, str] = {}
        last: Exception | None = None
        for policy_id, source in pending.items():
            try:
                client.update_policy_from_string(source, policy_id, rego_compat=False)
            except requests.RequestException:
                raise
            except Exception as exc:
                failed[policy_id], last = source, exc
        if last is not None and len(failed) == len(pending):
            raise last  # no progress: a real compile error
        pending = failed
