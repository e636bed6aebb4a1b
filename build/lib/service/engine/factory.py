"""The one place that chooses the policy engine: the OPA server MLGATE_OPA_URL names, or the
embedded OPA evaluator when it names none."""

from __future__ import annotations

import contextlib
import logging

from service.engine.embedded import EmbeddedEngine
from service.engine.policyset import PolicySet
from service.engine.server import ServerEngine, ServerOptions
from service.errors import PolicyEngineUnavailable
from service.settings import Settings

log = logging.getLogger("mlgate.engine")

# Both backends satisfy service.engine.base.PolicyEngine and have close().
Engine = EmbeddedEngine | ServerEngine


def server_options(settings: Settings) -> ServerOptions | None:
    """The OPA server the settings name, or None for the embedded engine."""
    if not settings.opa_url:
        return None
    return ServerOptions(
        url=settings.opa_url.rstrip("/"),
        token=settings.opa_token,
        timeout_seconds=settings.opa_timeout_seconds,
        ca_file=settings.opa_ca_file,
        client_cert=settings.opa_client_cert,
        client_key=settings.opa_client_key,
    )


def new_engine(settings: Settings, policy_set: PolicySet) -> Engine:
    """An engine deciding under `policy_set`.

    Embedded: the policies are loaded into it now (PolicyLoadError if they do not compile;
    PolicyEngineUnavailable if the bindings are missing). Server: the policies are compiled
    locally all the same when the bindings are installed, so a broken set fails here as it
    would embedded, and then the
    server is checked once; a server that is not ready is logged, not raised, since a sidecar
    may start after us: until it serves this revision every decision denies saying why.
    """
    options = server_options(settings)
    if options is None:
        return EmbeddedEngine(policy_set)
    # Without the bindings installed, the server alone judges the policies.
    with contextlib.suppress(PolicyEngineUnavailable):
        EmbeddedEngine(policy_set).close()
    engine = ServerEngine(policy_set, options)
    try:
        engine.check()
    except PolicyEngineUnavailable as exc:
        log.warning("not ready: %s", exc.message)
    return engine


def check_engine(settings: Settings, policy_set: PolicySet) -> None:
    """Raise PolicyEngineUnavailable unless the engine the settings choose can decide under
    `policy_set` now: for a server, that it serves this revision (for /readyz)."""
    options = server_options(settings)
    if options is None:
        return
    engine = ServerEngine(policy_set, options)
    try:
        engine.check()
    finally:
        engine.close()
