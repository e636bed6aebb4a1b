"""Questions to the policy set in force other than decisions (who may sign off), asked on an
engine of their own: decisions may run in worker processes, and sign-offs are rare."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from service.engine.factory import Engine, new_engine
from service.engine.policyset import PolicySet
from service.settings import Settings


class PolicyQuestions:
    """Evaluates one rule of the policy set `current()` returns, on an engine the settings
    choose (the OPA server MLGATE_OPA_URL names, else embedded OPA), built on first use and
    again once a reload changed the revision. One question at a time, so an engine is never
    closed under a question."""

    def __init__(self, settings: Settings, current: Callable[[], PolicySet]) -> None:
        self._settings = settings
        self._current = current
        self._lock = threading.Lock()
        self._revision = ""
        self._engine: Engine | None = None

    def query(self, path: str, input_doc: Mapping[str, Any]) -> Any:
        """The value of the rule at `path` (dotted, under data), None when undefined. Raises
        PolicyEngineUnavailable (and PolicyLoadError for a set that no longer compiles)."""
        policy_set = self._current()
        with self._lock:
            if self._engine is None or self._revision != policy_set.revision:
                self._close()
                self._engine = new_engine(self._settings, policy_set)
                self._revision = policy_set.revision
            return self._engine.query(path, input_doc)

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None
