"""The components the routes use, built once per app: the decider, ledger, sign-offs, tokens."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request

from service.api.auth import TokenTable
from service.api.metrics import Metrics
from service.api.policy_questions import PolicyQuestions
from service.api.private_paths import PrivatePaths
from service.api.readiness import WriteHealth
from service.api.readiness_log import ReadinessLog
from service.audit.ledger import Ledger
from service.audit.shared_verification import SharedVerification
from service.clock import now_rfc3339
from service.decision.gatespec import GateRegistry
from service.engine.catalogue import RuleEntry, rule_catalogue
from service.engine.policyset import PolicySet, load_policy_set
from service.evidence.context import EvidenceContext
from service.execution.threads import Decider
from service.record_ids import new_record_id
from service.review.revisions import keep_revision
from service.settings import Settings
from service.signoffs.book import SignoffBook


@dataclass
class Runtime:
    """What the routes use; built by create_app and kept on app.state."""

    settings: Settings
    decider: Decider  # where the decision path is placed (service/execution/)
    gates: GateRegistry  # the gates this app answers
    ledger: Ledger  # this process's own connection: reads, verification, readiness
    signoffs: SignoffBook  # sign-offs are records in `ledger`
    context: EvidenceContext  # `ledger` and the registry, for effects run in this process
    tokens: TokenTable
    metrics: Metrics
    write_health: WriteHealth
    owned: list[Any] = field(default_factory=list)  # closed when the app shuts down
    # Why /readyz fails, logged once per change (service/api/readiness_log.py).
    readiness_log: ReadinessLog = field(default_factory=ReadinessLog)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _catalogue: tuple[str, list[RuleEntry]] = ("", [])
    # Who may sign off, asked of the policy set in force (service/gates/signoffs.py).
    policy: PolicyQuestions = field(init=False)
    # GET /v1/audit/verify and the review page: one verification at a time, shared.
    verification: SharedVerification = field(init=False)
    # The paths an error message must not show a client (service/api/private_paths.py).
    private_paths: PrivatePaths = field(init=False)

    def __post_init__(self) -> None:
        self.private_paths = PrivatePaths.of(self.settings)
        self.policy = PolicyQuestions(self.settings, lambda: self.decider.policy_set)
        self.verification = SharedVerification(self.ledger)

    @property
    def policy_set(self) -> PolicySet:
        return self.decider.policy_set

    def catalogue(self) -> list[RuleEntry]:
        policy_set = self.policy_set
        with self._lock:
            if self._catalogue[0] != policy_set.revision:
                self._catalogue = (policy_set.revision, rule_catalogue(policy_set))
            return self._catalogue[1]

    def reload(self, by: str) -> tuple[str, PolicySet, int]:
        """Load the policies from disk again and record that `by` did so; the previous
        revision, the set now in force and the seq of the reload's ledger record.

        The new revision is kept first (a `policy_revision` record naming each file with its
        digest, its files archived) unless the ledger has it already. On any error the running
        policies stay in force: a set that does not load, or a revision or reload the ledger
        cannot record (AuditWriteFailed), since no policy may decide without a signed record
        of what it is and when it came into force.
        """
        with self._lock:
            running = self.policy_set
            policy_set = load_policy_set(self.settings.policy_dir)
            rule_catalogue(policy_set)
            keep_revision(self.ledger, policy_set)
            previous, policy_set = self.decider.reload(policy_set)
            record_id = new_record_id()
            try:
                receipt = self.ledger.record_event(
                    "policy_reload",
                    record_id,
                    {
                        "id": record_id,
                        "previous_revision": previous,
                        "revision": policy_set.revision,
                        "files": sorted(policy_set.files),
                        "reloaded_by": by,
                        "reloaded_at": now_rfc3339(),
                    },
                    outcome="reloaded",
                )
            except BaseException:
                self.decider.reload(running)
                raise
            return previous, policy_set, receipt.seq

    def close(self) -> None:
        self.decider.close()
        self.policy.close()
        for component in reversed(self.owned):
            component.close()


async def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(_runtime)]
