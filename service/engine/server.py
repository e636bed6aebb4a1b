"""The server engine: an OPA server (sidecar, shared server) asked through opa-python-client.

Each decision is `POST /v1/data/mlgate/<gate>/decision?provenance=true`. The revision the
server evaluated under is read from that same answer (its bundle's manifest revision) or, for
policies pushed through the Policy API, from the data document the push wrote last; a decision
under any revision other than the policy set's is refused, never recorded as ours.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from opa_client import OpaClient

from service.engine.base import decision_path
from service.engine.policyset import PolicySet
from service.errors import PolicyEngineUnavailable, UsageError

# Where `mlgate policies push` records the revision it pushed (written after everything else).
REVISION_PACKAGE = "mlgate_policy"
REVISION_RULE = "revision"
# Connection failures are retried once: nothing reached OPA, so nothing is done twice. The
# client's urllib3 Retry never repeats a POST that was sent (POST is not in its allowed methods).
CONNECT_RETRIES = 1
_ERRNO = re.compile(r"(\[Errno -?\d+\] [^'\")]+)")


@dataclass(frozen=True)
class ServerOptions:
    """How to reach the OPA server: its URL, bearer token, timeout (seconds) and TLS files."""

    url: str
    token: str = ""
    timeout_seconds: float = 2.0
    ca_file: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None


def new_client(options: ServerOptions) -> OpaClient:
    """An opa-python-client for `options`; UsageError when the URL is not http(s)://host[:port].

    The client builds its own URLs as <scheme>://<host>:<port>/v1/..., so an OPA behind a
    path prefix (https://gw/opa/) cannot be reached through it.
    """
    parts = urlsplit(options.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"MLGATE_OPA_URL must be http(s)://host[:port], found {options.url!r}")
    if parts.path not in ("", "/") or parts.query:
        raise UsageError(
            f"MLGATE_OPA_URL must have no path (opa-python-client adds /v1/...), "
            f"found {options.url!r}"
        )
    https = parts.scheme == "https"
    verify: bool | str = str(options.ca_file) if https and options.ca_file else https
    cert: str | tuple[str, str] | None = None
    if options.client_cert is not None:
        cert = str(options.client_cert)
        if options.client_key is not None:
            cert = (cert, str(options.client_key))
    return OpaClient(
        host=parts.hostname,
        port=parts.port or (443 if https else 80),
        ssl=verify,
        cert=cert,
        token=options.token or None,
        retries=CONNECT_RETRIES,
        timeout=options.timeout_seconds,
    )


class ServerEngine:
    """Asks one OPA server; holds the policy set whose revision the server must be serving.

    Construction does not contact the server (a sidecar may start after us); `check()` does.
    """

    def __init__(self, policy_set: PolicySet, options: ServerOptions) -> None:
        self._policy_set = policy_set
        self._options = options
        self._client = new_client(options)

    @property
    def policy_set(self) -> PolicySet:
        return self._policy_set

    @property
    def url(self) -> str:
        return self._options.url

    def evaluate(self, gate: str, input_doc: Mapping[str, Any]) -> Any:
        """The decision document the server gives, or None when it leaves it undefined.

        Raises PolicyEngineUnavailable when the server is unreachable, slower than the
        timeout, answers an error or something that is not OPA's answer, or evaluated under
        another policy revision than this engine's policy set.
        """
        return self.query(decision_path(gate), input_doc)

    def query(self, path: str, input_doc: Mapping[str, Any]) -> Any:
        """The value of the rule at `path` (dotted, under data: "mlgate.promotion.decision")
        for `input_doc`, asked as `POST /v1/data/<path>`; None when the policy leaves it
        undefined. Raises PolicyEngineUnavailable as `evaluate` does."""
        package, _, rule = path.rpartition(".")
        body = self._ask(dict(input_doc), package.replace(".", "/"), rule)
        self._require_revision(body)
        return body.get("result")

    def served_revision(self) -> str | None:
        """The policy revision the server holds now (bundle manifest, else the pushed
        document), or None when it holds neither. Raises PolicyEngineUnavailable."""
        body = self._ask({}, REVISION_PACKAGE, REVISION_RULE)
        bundled = _bundle_revisions(body)
        if bundled:
            return self._policy_set.revision if self._policy_set.revision in bundled else bundled[0]
        result = body.get("result")
        return result if isinstance(result, str) else None

    def check(self) -> None:
        """Raise PolicyEngineUnavailable unless the server serves this policy set's revision."""
        served = self.served_revision()
        if served != self._policy_set.revision:
            raise PolicyEngineUnavailable(self._mismatch(served))

    def close(self) -> None:
        self._client.close_connection()

    def _require_revision(self, body: dict[str, Any]) -> None:
        bundled = _bundle_revisions(body)
        if bundled:
            if self._policy_set.revision not in bundled:
                raise PolicyEngineUnavailable(self._mismatch(", ".join(bundled)))
            return
        # No bundle: the policies were pushed. The revision document is written after the
        # policies and removed before a push starts, so reading it after the decision shows
        # that no push was under way or done in between.
        self.check()

    def _mismatch(self, served: str | None) -> str:
        held = f"policy revision {served}" if served else "no mlgate policy revision"
        return (
            f"the OPA server at {self.url} holds {held}, but mlgate expects "
            f"{self._policy_set.revision}; load the bundle `mlgate bundle build` writes, or "
            "run `mlgate policies push`"
        )

    def _ask(self, input_doc: dict[str, Any], package: str, rule: str) -> dict[str, Any]:
        where = f"the OPA server at {self.url}"
        try:
            body = self._client.query_rule(
                input_doc, package, rule, query_params={"provenance": "true"}
            )
        except requests.Timeout:
            raise PolicyEngineUnavailable(
                f"{where} did not answer within {self._options.timeout_seconds:g} s "
                "(MLGATE_OPA_TIMEOUT_SECONDS)"
            ) from None
        except requests.ConnectionError as exc:
            raise PolicyEngineUnavailable(f"{where} is unreachable ({_first_line(exc)})") from None
        except requests.HTTPError as exc:
            raise PolicyEngineUnavailable(f"{where} answered {_http_error(exc)}") from None
        except ValueError:  # requests' JSONDecodeError is a RequestException too
            raise PolicyEngineUnavailable(f"{where} answered something that is not JSON") from None
        except requests.RequestException as exc:
            raise PolicyEngineUnavailable(f"{where} failed: {_first_line(exc)}") from None
        if not isinstance(body, dict):
            raise PolicyEngineUnavailable(
                f"{where} answered {type(body).__name__} where OPA gives an object"
            )
        return body


def _bundle_revisions(body: Mapping[str, Any]) -> list[str]:
    provenance = body.get("provenance")
    bundles = provenance.get("bundles") if isinstance(provenance, Mapping) else None
    if not isinstance(bundles, Mapping):
        return []
    return sorted(
        str(b["revision"]) for b in bundles.values() if isinstance(b, Mapping) and b.get("revision")
    )


def _http_error(exc: requests.HTTPError) -> str:
    response = exc.response
    if response is None:
        return f"an error: {exc}"
    try:
        body = response.json()
        detail = f"{body.get('code', 'error')}: {body.get('message', '')}".strip(": ")
    except ValueError:
        detail = response.text[:200]
    return f"HTTP {response.status_code} ({detail})"


def _first_line(exc: Exception) -> str:
    text = str(exc)
    errno = _ERRNO.search(text)  # urllib3 nests the cause deep inside its own message
    if errno:
        return errno.group(1)
    return (text.strip().splitlines() or [type(exc).__name__])[0][:300]
