"""The components the routes use, built once per app: the decider, ledger, sign-offs, tokens."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request

from service.api.auth import TokenTable
from service.api.metrics import Metrics
from service.audit.ledger import Ledger
from service.engine.catalogue import RuleEntry, rule_catalogue
from service.engine.deciders import Decider
from service.engine.policyset import PolicySet
from service.settings import Settings
from service.signoffs.store import SignoffStore


@dataclass
class Runtime:
    """What the routes use; built by create_app and kept on app.state."""

    settings: Settings
    decider: Decider
    ledger: Ledger  # this process's own connection: reads, verification, readiness
    signoffs: SignoffStore
    tokens: TokenTable
    metrics: Metrics
    owned: list[Any] = field(default_factory=list)  # closed when the app shuts down
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _catalogue: tuple[str, list[RuleEntry]] = ("", [])

    @property
    def policy_set(self) -> PolicySet:
        return self.decider.policy_set

    def catalogue(self) -> list[RuleEntry]:
        policy_set = self.policy_set
        with self._lock:
            if self._catalogue[0] != policy_set.revision:
                self._catalogue = (policy_set.revision, rule_catalogue(policy_set))
            return self._catalogue[1]

    def reload(self) -> tuple[str, PolicySet]:
        """Load the policies from disk again; on any error the running ones stay in place."""
        previous, policy_set = self.decider.reload()
        rule_catalogue(policy_set)
        return previous, policy_set

    def close(self) -> None:
        self.decider.close()
        for component in reversed(self.owned):
            component.close()


async def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(_runtime)]
