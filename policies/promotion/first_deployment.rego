# A first deployment: promotion to a stage that compares against a champion while none is on
# record. There is nothing to compare against, so the stage's first_deployment settings
# decide instead: approvals by their roles and stricter floors and ceilings.
package mlgate.promotion

import data.mlgate.lib.metrics
import data.mlgate.lib.reasons

# This file is loaded (promotion.rego checks that every file of the package is).
files contains "first_deployment"

_first_deployment := object.get(stage_settings, "first_deployment", {})

# No champion is on record: the gate has installed none behind the stage's alias, and no
# baseline was given but the version of an alias set outside the gate (which is no champion:
# baseline.rego warns of it). A baseline the caller or an evidence file gives while none is on
# record is compared against as before (require_registry: [baseline] refuses it).
_is_first_deployment if {
	object.get(stage_settings, "baseline_required", false) == true
	"first_deployment" in object.keys(stage_settings)
	not input.alias_of_record
	not _has_given_baseline
}

_has_given_baseline if {
	input.baseline
	not input.alias_unrecorded
}

# The roles a first deployment needs that the stage does not already ask an approval of (those
# hold under APPROVAL_PENDING already).
_first_deployment_roles contains role if {
	_is_first_deployment
	some role in object.get(_first_deployment, "approver_roles", [])
	not role in object.get(stage_settings, "approver_roles", [])
}

_first_deployment_note := sprintf("the first %s deployment of %s (no champion is on record)", [_label, input.model.name])

# METADATA
# title: A first deployment is approved
# description: |
#   With no champion on record there is nothing to compare the version against, so each role
#   of the stage's first_deployment.approver_roles must approve it (mlgate approve); nobody
#   who asked for a decision on it can. Until then the gate holds.
# custom:
#   code: FIRST_DEPLOYMENT_APPROVAL_PENDING
#   severity: medium
#   controls: ["SR 11-7 IV", "EU AI Act Art. 14"]
hold contains reason if {
	some role in _first_deployment_roles
	not _is_approved_by(role)
	msg := sprintf(
		"v%s is %s; it awaits approval by a %s (%s)",
		[input.model.version, _first_deployment_note, role, _approval_state(role)],
	)
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": "approvals"})
}

# METADATA
# title: First-deployment floors are met
# description: |
#   With no champion on record, each metric with a first_deployment floor for the tier and
#   stage is at or above it, on top of the stage's own floors.
# custom:
#   code: FIRST_DEPLOYMENT_BELOW_FLOOR
#   severity: high
#   controls: ["NIST AI RMF MEASURE 2.3", "SR 11-7 III.B"]
deny contains reason if {
	_is_first_deployment
	some name, floor in object.get(_first_deployment, "floors", {})
	metrics.has_metric(_values, name)
	not metrics.meets_floor(_values, name, floor)
	msg := sprintf("%s %v is below the floor %v for %s", [name, _values[name], floor, _first_deployment_note])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"metric": name, "actual": _values[name], "threshold": floor})
}

# METADATA
# title: First-deployment ceilings are met
# description: |
#   With no champion on record, each metric with a first_deployment ceiling for the tier and
#   stage is at or below it, on top of the stage's own ceilings.
# custom:
#   code: FIRST_DEPLOYMENT_ABOVE_CEILING
#   severity: high
#   controls: ["NIST AI RMF MEASURE 2.3", "SR 11-7 III.B"]
deny contains reason if {
	_is_first_deployment
	some name, ceiling in object.get(_first_deployment, "ceilings", {})
	metrics.has_metric(_values, name)
	not metrics.within_ceiling(_values, name, ceiling)
	msg := sprintf("%s %v is above the ceiling %v for %s", [name, _values[name], ceiling, _first_deployment_note])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"metric": name, "actual": _values[name], "threshold": ceiling})
}
