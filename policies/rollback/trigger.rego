# What a person asking for a rollback must say.
package mlgate.rollback

import data.mlgate.lib.reasons

# This file is loaded (rollback.rego checks that every file of the package is).
files contains "trigger"

# METADATA
# title: A manual rollback says why
# description: |
#   A person asking for a rollback gives a reason of at least require_reason_min_length
#   characters (spaces at either end not counted), so the record says why the version was
#   taken down. A monitoring trigger carries its decision's reason.
# custom:
#   code: ROLLBACK_REASON_MISSING
#   severity: medium
#   controls: ["EU AI Act Art. 12", "EU AI Act Art. 14"]
deny contains reason if {
	_trigger.kind == "manual"
	not _has_reason(_trigger)
	minimum := _reason_min_length
	given := _reason_length(_trigger)
	msg := sprintf("a manual rollback needs a reason of at least %d characters; %q has %d", [minimum, _reason_text(_trigger), given])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": "trigger.reason", "actual": given, "threshold": minimum})
}

_reason_min_length := object.get(_rollback, "require_reason_min_length", 10)

_has_reason(trigger) if _reason_length(trigger) >= _reason_min_length

_reason_length(trigger) := count(trim_space(_reason_text(trigger)))

_reason_text(trigger) := trigger.reason if is_string(trigger.reason)

else := ""
