"""Approvals, waivers and their withdrawals as signed records in the audit ledger.

The ledger is the sign-off store: a sign-off exists exactly when its signed record does, so a
reviewer sees who signed what and when in the same verified chain as the decisions, and the
decision path reads sign-offs from there (service/evidence/signoffs.py). Each sign-off names
the artifact digest it was given for and counts only for it. A sign-off is recorded once: the
same request again finds the record kept and writes nothing (service/audit/recorded.py).
"""

from __future__ import annotations

from typing import Any

from service.audit.ledger import Ledger
from service.audit.recorded import Recorded
from service.clock import now_rfc3339
from service.errors import MlgateError, NotFound
from service.modelname import check_model_name
from service.record_ids import new_record_id

# How many records of one kind on one model version are read back; far above real use.
READ_LIMIT = 10_000


class SelfSignoff(MlgateError):
    """The approver asked for a decision on this very version, so may not sign it off."""

    code = "self_signoff"


class SignoffBook:
    """Writes sign-offs into `ledger` and reads them back for one model version."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def has_requested(self, model: str, version: str, who: str) -> bool:
        """Whether `who` was the caller of any decision recorded on this model version."""
        return bool(
            self.ledger.find(kind="decision", model=model, version=version, caller=who, limit=1)
        )

    def _refuse_requester(self, model: str, version: str, who: str) -> None:
        if self.has_requested(model, version, who):
            raise SelfSignoff(
                f"{who} requested a decision on {model} v{version}, so may not sign it off; "
                "another approver must"
            )

    def approve(
        self,
        *,
        model: str,
        version: str,
        artifact_digest: str,
        approver: str,
        role: str,
        status: str,
        comment: str | None = None,
    ) -> Recorded:
        """Record an approval (status approved, rejected or pending); the stored approval.

        When the approver's latest word in this role on this version and artifact is already
        this one (same status and comment), nothing is recorded and the answer is that approval
        (`created` False): a retried request records once. Raises InvalidField for a model name
        not in the one form (service/modelname.py), SelfSignoff when `approver` asked for a
        decision on this version, and AuditWriteFailed when the record cannot be stored.
        """
        check_model_name("model", model)
        with self.ledger.exclusive(_lock(model, version)):
            self._refuse_requester(model, version, approver)
            latest = self._latest_word(model, version, approver, role, artifact_digest)
            if latest is not None and (latest["status"], latest.get("comment")) == (
                status,
                comment or None,
            ):
                return Recorded(latest, created=False)
            approval: dict[str, Any] = {
                "id": new_record_id(),
                "model": model,
                "version": version,
                "artifact_digest": artifact_digest,
                "approver": approver,
                "role": role,
                "status": status,
                "decided_at": now_rfc3339(),
            }
            if comment:
                approval["comment"] = comment
            approval["record"] = self._record("approval", approval, status)
        return Recorded(approval, created=True)

    def waive(
        self,
        *,
        model: str,
        version: str,
        artifact_digest: str,
        rule_code: str,
        approved_by: str,
        role: str,
        reason: str,
        expires_at: str,
    ) -> Recorded:
        """Record a time-boxed waiver of one rule code; the stored waiver.

        When a waiver the same in every field but its id and time is in force on this version
        (not withdrawn), nothing is recorded and the answer is that waiver (`created` False): a
        retried request never leaves a second waiver that withdrawing the first would not
        withdraw. The caller checks the code, role and expiry first
        (service/signoffs/rules.py). Raises InvalidField for a model name not in the one form,
        SelfSignoff when `approved_by` asked for a decision on this version.
        """
        check_model_name("model", model)
        asked: dict[str, Any] = {
            "rule_code": rule_code,
            "model": model,
            "version": version,
            "artifact_digest": artifact_digest,
            "approved_by": approved_by,
            "role": role,
            "reason": reason,
            "expires_at": expires_at,
        }
        with self.ledger.exclusive(_lock(model, version)):
            self._refuse_requester(model, version, approved_by)
            for earlier in self.waivers_for(model, version):
                if all(earlier.get(key) == value for key, value in asked.items()):
                    return Recorded(earlier, created=False)
            waiver: dict[str, Any] = {
                "id": new_record_id(),
                **asked,
                "created_at": now_rfc3339(),
            }
            waiver["record"] = self._record("waiver", waiver, "granted")
        return Recorded(waiver, created=True)

    def waiver(self, waiver_id: str) -> dict[str, Any]:
        """The waiver recorded under this id, as signed; NotFound if there is none."""
        try:
            record = self.ledger.get(waiver_id)
        except NotFound:
            record = None
        if record is None or record.kind != "waiver":
            raise NotFound(f"no waiver {waiver_id!r} in the {self.ledger.store.description}")
        return record.predicate()

    def withdraw(self, waiver_id: str, by: str, reason: str) -> Recorded:
        """Withdraw a waiver: from now on it counts for nothing; the stored withdrawal.

        A waiver is withdrawn once: withdrawing one already withdrawn records nothing and the
        answer is that first withdrawal (`created` False), whoever asks and whatever their
        reason. Raises NotFound if there is no such waiver. Who may withdraw it is the caller's
        to check (the approver, or one who may waive it)."""
        waiver = self.waiver(waiver_id)
        model, version = str(waiver["model"]), str(waiver["version"])
        with self.ledger.exclusive(_lock(model, version)):
            for earlier in self._withdrawals(model, version):
                if earlier["waiver_id"] == waiver_id:
                    return Recorded(earlier, created=False)
            withdrawal: dict[str, Any] = {
                "id": new_record_id(),
                "waiver_id": waiver_id,
                "model": waiver["model"],
                "version": waiver["version"],
                "artifact_digest": waiver.get("artifact_digest"),
                "withdrawn_by": by,
                "reason": reason,
                "withdrawn_at": now_rfc3339(),
            }
            withdrawal["record"] = self._record("waiver_withdrawal", withdrawal, "withdrawn")
        return Recorded(withdrawal, created=True)

    def _record(self, kind: str, content: dict[str, Any], outcome: str) -> int:
        receipt = self.ledger.record_event(
            kind,
            content["id"],
            content,
            model=(content["model"], content["version"], content.get("artifact_digest")),
            outcome=outcome,
            by=str(
                content.get("approver") or content.get("approved_by") or content["withdrawn_by"]
            ),
        )
        return receipt.seq

    def _read(self, kind: str, model: str, version: str) -> list[dict[str, Any]]:
        """Records of one kind on this version, oldest first, as signed."""
        records = self.ledger.find(kind=kind, model=model, version=version, limit=READ_LIMIT)
        return [
            {k: v for k, v in record.predicate().items() if k not in _CHAIN_FIELDS}
            | {"record": record.seq}
            for record in reversed(records)
        ]

    def _withdrawals(self, model: str, version: str) -> list[dict[str, Any]]:
        return self._read("waiver_withdrawal", model, version)

    def _latest_word(
        self, model: str, version: str, approver: str, role: str, artifact_digest: str
    ) -> dict[str, Any] | None:
        """The approver's newest approval in `role` on this version and artifact, or None."""
        for approval in self._read("approval", model, version)[::-1]:
            if (approval["approver"], approval["role"], approval.get("artifact_digest")) == (
                approver,
                role,
                artifact_digest,
            ):
                return approval
        return None

    def approvals_for(self, model: str, version: str) -> list[dict[str, Any]]:
        """Each approver's latest word per role and artifact on this version, oldest first."""
        latest: dict[tuple[str, str, str], dict[str, Any]] = {}
        for approval in self._read("approval", model, version):
            key = (approval["approver"], approval["role"], str(approval.get("artifact_digest")))
            latest.pop(key, None)
            latest[key] = approval
        return list(latest.values())

    def waivers_for(self, model: str, version: str) -> list[dict[str, Any]]:
        """The waivers on this version that were not withdrawn, oldest first (expired ones
        included: the policy judges expiry against the request time)."""
        return self.waivers_by_state(model, version)[0]

    def withdrawn_waivers_for(self, model: str, version: str) -> list[dict[str, Any]]:
        """The waivers on this version that were withdrawn, oldest first, each with its
        `withdrawal` ({id, record, withdrawn_by, withdrawn_at, reason}): they count for
        nothing, and a decision names them."""
        return self.waivers_by_state(model, version)[1]

    def waivers_by_state(
        self, model: str, version: str
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(`waivers_for`, `withdrawn_waivers_for`) from one read of the version's waivers and
        one of their withdrawals, so each waiver is in exactly one of the two lists."""
        withdrawals = {w["waiver_id"]: w for w in self._withdrawals(model, version)}
        standing: list[dict[str, Any]] = []
        withdrawn: list[dict[str, Any]] = []
        for waiver in self._read("waiver", model, version):
            withdrawal = withdrawals.get(waiver["id"])
            if withdrawal is None:
                standing.append(waiver)
            else:
                withdrawn.append(waiver | {"withdrawal": _withdrawal_said(withdrawal)})
        return standing, withdrawn


def _lock(model: str, version: str) -> str:
    """The ledger's named lock over the sign-offs of one model version: a request and its
    retry arriving at once record one sign-off, not two."""
    return f"signoffs:{model}:{version}"


def _withdrawal_said(withdrawal: dict[str, Any]) -> dict[str, Any]:
    """What a withdrawn waiver carries of its withdrawal."""
    keys = ("id", "record", "withdrawn_by", "withdrawn_at", "reason")
    return {key: withdrawal[key] for key in keys if key in withdrawal}


# Fields the chain adds to every predicate; not part of the sign-off itself.
_CHAIN_FIELDS = frozenset({"seq", "prev", "recorded_at"})
