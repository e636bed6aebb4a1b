"""Flagger's webhook contract, as mlgate answers it: which gate each hook type asks, what
Flagger sends, and which status says what to Flagger.

Read from Flagger v1.36.1's source (https://github.com/fluxcd/flagger/tree/v1.36.1):

- pkg/controller/webhook.go: Flagger POSTs `CanaryWebhookPayload` as JSON with no header but
  Content-Type (no token can travel in a header), and treats a status above 202 as a failure:
  only 200-202 succeed. Its retry client (go-retryablehttp) retries connection errors, 429 and
  5xx other than 501, and only when the webhook sets `retries`.
- pkg/apis/flagger/v1beta1/canary.go: the payload is {name, namespace, phase, checksum,
  metadata: map[string]string}; the hook types; no hook type travels in the payload, so the
  hook is the URL's last segment.
- pkg/apis/flagger/v1beta1/status.go: the phases.
- pkg/controller/scheduler.go and scheduler_hooks.go: when each hook is called, with which
  phase, and what its answer does. confirm-rollout, confirm-traffic-increase and
  confirm-promotion wait on failure and ask again at the next interval; pre-rollout and rollout
  count a failure as a failed check (the canary is rolled back when they reach the analysis
  `threshold`); a rollback hook's success aborts the canary, a failure is read as "no
  rollback"; post-rollout's and event's answers change nothing (a warning event or a log line).

So every answer that lets a canary proceed is a 200, and nothing else is a 2xx: a hold is 423
(Locked: wait), a deny 409 (Conflict), as is a rollback at a hook that asks to proceed. A
rollback hook answers 200 only when the monitoring gate says rollback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from service.api.models import DecisionRequest, ModelIdentity, ModelName, Target
from service.decision.model import DecisionAnswer, Outcome, Stage
from service.errors import InvalidField, NotFound

FLAGGER_VERSION = "v1.36.1"  # the source this contract was read from
SOURCE = f"https://github.com/fluxcd/flagger/blob/{FLAGGER_VERSION}"

# pkg/apis/flagger/v1beta1/status.go, CanaryPhase.
Phase = Literal[
    "Initializing",
    "Initialized",
    "Waiting",
    "Progressing",
    "WaitingPromotion",
    "Promoting",
    "Finalising",
    "Succeeded",
    "Failed",
    "Terminating",
    "Terminated",
]
PHASES: tuple[str, ...] = get_args(Phase)

PROCEED = 200  # Flagger's success: only 200-202 count (webhook.go: StatusCode > 202 fails)
HOLD = 423  # Locked: the gate holds; Flagger waits, or counts a failed check
REFUSED = 409  # Conflict: the gate's outcome is not what this hook asks for

# The metadata keys mlgate reads; `token` is the caller's gate token.
METADATA_KEYS = ("model", "version", "stage", "promote_to", "enact", "token")


@dataclass(frozen=True)
class Hook:
    """One Flagger hook type mlgate answers: the gate it asks, the metadata key naming the
    stage (`stage`: where the canary serves; `promote_to`: where promotion goes), the outcome
    that answers yes (200), the phases Flagger calls it in, and what Flagger does with a yes
    and with anything else."""

    name: str
    gate: str
    stage_key: Literal["stage", "promote_to"]
    yes: Outcome
    phases: frozenset[str]
    on_yes: str
    on_no: str
    called: str  # where Flagger calls it (for the message on a phase it is never called in)

    def status(self, outcome: Outcome) -> int:
        """200 for the outcome that answers yes; 423 for a hold; 409 otherwise."""
        if outcome == self.yes:
            return PROCEED
        return HOLD if outcome == "hold" else REFUSED

    def effect(self, outcome: Outcome) -> str:
        """What Flagger does with the answer to `outcome`, in words."""
        return self.on_yes if outcome == self.yes else self.on_no

    def check_phase(self, phase: str) -> None:
        """InvalidField("phase") when Flagger never calls this hook type in `phase`: the
        webhook's `type` is then not the hook its URL names, and mlgate would ask the wrong
        gate, or read the answer the wrong way round."""
        if phase not in self.phases:
            raise InvalidField(
                "phase",
                f"Flagger calls a {self.name} webhook {self.called}, never in phase {phase!r}: "
                f"is the webhook's type {self.name!r}? The URL's last segment must be the "
                "webhook's type",
            )


_PROGRESSING = frozenset({"Progressing"})
_WAIT = "Flagger waits and asks again at the next interval"
_FAILED_CHECK = (
    "a failed check for Flagger (it rolls the canary back when failed checks reach the "
    "analysis threshold)"
)
_PROCEEDS = "Flagger proceeds"

# scheduler.go checkCanaryStatus: confirm-rollout is asked with the canary's own phase, which
# is none of these (the canary would be under analysis or being promoted already).
_BEFORE_ROLLOUT = frozenset(PHASES) - {"Progressing", "WaitingPromotion", "Promoting", "Finalising"}

HOOKS: dict[str, Hook] = {
    hook.name: hook
    for hook in (
        Hook(
            "confirm-rollout",
            "promotion",
            "stage",
            "allow",
            _BEFORE_ROLLOUT,
            _PROCEEDS + " to scale up the canary",
            _WAIT,
            "before a new revision's canary is scaled up (phase Initialized, Succeeded, "
            "Failed or Waiting)",
        ),
        Hook(
            "pre-rollout",
            "promotion",
            "stage",
            "allow",
            _PROGRESSING,
            _PROCEEDS + " to route traffic to the canary",
            _FAILED_CHECK,
            "with phase Progressing",
        ),
        Hook(
            "confirm-traffic-increase",
            "monitoring",
            "stage",
            "allow",
            _PROGRESSING,
            _PROCEEDS + " to increase the canary's traffic weight",
            _WAIT,
            "with phase Progressing",
        ),
        Hook(
            "rollout",
            "monitoring",
            "stage",
            "allow",
            _PROGRESSING,
            _PROCEEDS + " with the analysis",
            _FAILED_CHECK,
            "with phase Progressing",
        ),
        Hook(
            "confirm-promotion",
            "promotion",
            "promote_to",
            "allow",
            _PROGRESSING,
            _PROCEEDS + " to promote the canary",
            _WAIT,
            "with phase Progressing",
        ),
        Hook(
            "rollback",
            "monitoring",
            "stage",
            "rollback",
            frozenset({"Progressing", "Waiting", "WaitingPromotion"}),
            "Flagger rolls the canary back (the analysis stops, the canary is marked failed)",
            "no rollback",
            "while the canary is Progressing, Waiting or WaitingPromotion",
        ),
    )
}

# Hook types whose answer Flagger does not act on: mlgate asks no gate for them, and says so
# rather than answer a 200 Flagger would report as "check passed".
UNGATED = {
    "post-rollout": "Flagger only logs a post-rollout webhook's answer (as a warning event)",
    "event": "Flagger only logs an event webhook's answer",
}


def gated_hook(hook: str) -> Hook:
    """The hook named `hook`; InvalidField("hook") for one mlgate asks no gate for, NotFound
    for a name that is not a Flagger hook type mlgate answers."""
    if hook in UNGATED:
        raise InvalidField(
            "hook",
            f"mlgate asks no gate on Flagger's {hook} hook: {UNGATED[hook]}, so nothing "
            f"would be gated; remove the webhook, or use one of {', '.join(HOOKS)}",
        )
    if hook not in HOOKS:
        raise NotFound(
            f"no Flagger hook {hook!r}; mlgate answers {', '.join(HOOKS)} "
            "(the URL's last segment is the webhook's type)"
        )
    return HOOKS[hook]


# Kubernetes object names: a Canary's name is a DNS-1123 subdomain, its namespace a label.
_DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
_DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


class FlaggerMetadata(BaseModel):
    """The webhook's `metadata`: the deployment the hook asks about, and the caller's token.
    Flagger's metadata is map[string]string, so every value is a string."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "model": "fraud-detector",
                "version": "7",
                "stage": "canary",
                "promote_to": "production",
                "enact": "false",
                "token": "mlg_…",
            }
        },
    )
    model: ModelName
    version: str = Field(min_length=1, max_length=64, examples=["7"])
    stage: Stage = Field(
        default="canary",
        description="Where the canary serves: the promotion gate's target at confirm-rollout "
        "and pre-rollout, the monitoring gate's deployment stage at confirm-traffic-increase, "
        "rollout and rollback.",
    )
    promote_to: Stage = Field(
        default="production",
        description="The promotion gate's target at confirm-promotion.",
    )
    enact: Literal["true", "false"] = Field(
        default="false",
        description="A string, as all Flagger metadata: 'true' moves the stage's alias in the "
        "model registry after the decision (promotion's allow; monitoring's rollback asks "
        "the rollback gate, which moves it back), as `enact` in POST /v1/decisions/{gate}.",
    )
    token: str | None = Field(
        default=None,
        min_length=1,
        max_length=512,
        description="A `gate` token (Flagger sends no headers). Never recorded, logged or "
        "answered. Anyone who can read the Canary object can read it: give each Canary a "
        "token of its own, with the gate role only, and rotate it.",
    )

    @model_validator(mode="before")
    @classmethod
    def _known_keys_only(cls, data: Any) -> Any:
        """A misspelt key (`promote-to`, `versoin`) would otherwise be ignored and change
        what is asked without a word: refuse every key mlgate does not read, naming them."""
        if isinstance(data, dict):
            unknown = sorted(str(key) for key in data if key not in METADATA_KEYS)
            if unknown:
                listed = ", ".join(repr(key) for key in unknown[:10])
                more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
                raise PydanticCustomError(
                    "metadata_key",
                    "expected only the keys mlgate reads ({known}); found the unknown key(s) "
                    "{keys}",
                    {"keys": listed + more, "known": ", ".join(METADATA_KEYS)},
                )
        return data


class FlaggerWebhook(BaseModel):
    """Flagger's CanaryWebhookPayload (pkg/apis/flagger/v1beta1/canary.go). Fields Flagger may
    add later are ignored: they steer nothing; only `metadata` does, and it is checked key by
    key."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "name": "fraud-detector",
                "namespace": "models",
                "phase": "Progressing",
                "checksum": "85d557f47b",
                "metadata": FlaggerMetadata.model_config["json_schema_extra"]["example"],  # type: ignore[index]
            }
        }
    )
    name: str = Field(max_length=253, pattern=_DNS_SUBDOMAIN, description="The Canary's name.")
    namespace: str = Field(max_length=63, pattern=_DNS_LABEL, description="Its namespace.")
    phase: Phase = Field(description="The canary's phase as Flagger sends it for this hook.")
    checksum: str = Field(
        pattern=r"^[A-Za-z0-9]{1,64}$",
        description="Flagger's hash of the Canary's tracked configs and last applied spec.",
    )
    metadata: FlaggerMetadata | None = None

    def log_context(self, hook: str) -> dict[str, Any]:
        """What Flagger said of the canary, for the decision's log line (the decision path has
        no place for caller-supplied context, so the ledger does not hold it)."""
        return {
            "flagger": {
                "hook": hook,
                "canary": f"{self.namespace}/{self.name}",
                "phase": self.phase,
                "checksum": self.checksum,
            }
        }


class FlaggerAnswer(DecisionAnswer):
    """The decision, with what Flagger does with this answer (`message`, one line for
    Flagger's events and logs) and the hook that asked."""

    message: str = Field(
        examples=[
            "no: DENY promotion of fraud-detector v7 to canary: METRIC_BELOW_FLOOR: auc 0.71 "
            "is below the high-risk canary floor 0.90; Flagger waits and asks again at the "
            "next interval"
        ]
    )
    hook: str = Field(examples=["confirm-rollout"])


def decision_request(hook: Hook, metadata: FlaggerMetadata) -> DecisionRequest:
    """The request to the hook's gate for the deployment `metadata` names."""
    return DecisionRequest(
        model=ModelIdentity(name=metadata.model, version=metadata.version),
        target=Target(stage=getattr(metadata, hook.stage_key)),
        enact=metadata.enact == "true",
    )


def metadata_field(hook: Hook, field: str) -> str:
    """The metadata key behind a decision request's `field`, for an error the decision path
    raises about it; any other field as it is."""
    if field in ("target", "target.stage", "stage"):
        return f"metadata.{hook.stage_key}"
    return {
        "model": "metadata.model",
        "model.name": "metadata.model",
        "model.version": "metadata.version",
        "enact": "metadata.enact",
    }.get(field, field)


def answer_body(hook: Hook, decision: DecisionAnswer, preposition: str) -> dict[str, Any]:
    """The answer's body: a one-line message first (Flagger's events quote the body, and may
    cut it), the hook, then the decision as POST /v1/decisions/{gate} answers it."""
    stage = (decision.target or {}).get("stage", "")
    said = f"{decision.outcome.upper()} {decision.gate} of {decision.model.name} "
    said += f"v{decision.model.version} {preposition} {stage}"
    reasons = "; ".join(f"{r.code}: {r.message}" for r in decision.reasons[:3])
    if len(decision.reasons) > 3:
        reasons += f"; and {len(decision.reasons) - 3} more"
    yes = "yes" if decision.outcome == hook.yes else "no"
    message = f"{yes}: {said}" + (f": {reasons}" if reasons else "")
    message += f"; {hook.effect(decision.outcome)}"
    return {
        "message": message,
        "hook": hook.name,
        **decision.model_dump(mode="json", exclude_none=True),
    }
