# The champion of record: the version the gate itself last installed behind the stage's alias.
package mlgate.promotion

import data.mlgate.lib.reasons

# This file is loaded (promotion.rego checks that every file of the package is).
files contains "baseline"

# METADATA
# title: The alias names the champion of record
# description: |
#   The registry's alias for the target stage names the version the gate last installed
#   behind it. If someone moved it outside the gate, the champion of record stays the
#   baseline and the gate holds until a person has looked (alias_moved_outside_gate: hold).
# custom:
#   code: ALIAS_MOVED_OUTSIDE_GATE
#   severity: high
#   controls: ["SR 11-7 IV", "EU AI Act Art. 12"]
hold contains reason if {
	_is_alias_moved_outside_gate
	_alias_conflict_outcome == "hold"
	reason := reasons.from_rule(rego.metadata.rule(), _alias_moved_message, {"field": "alias_of_record"})
}

# METADATA
# title: The alias names the champion of record (refused)
# description: |
#   As above, at the stages whose alias_moved_outside_gate says deny: an alias moved outside
#   the gate refuses the promotion until the alias is back on the champion of record.
# custom:
#   code: ALIAS_MOVED_OUTSIDE_GATE_DENIED
#   severity: critical
#   controls: ["SR 11-7 IV", "EU AI Act Art. 12"]
deny contains reason if {
	_is_alias_moved_outside_gate
	_alias_conflict_outcome == "deny"
	reason := reasons.from_rule(rego.metadata.rule(), _alias_moved_message, {"field": "alias_of_record"})
}

# Only when the registry was read: it names a version (or none) other than the one of record.
_is_alias_moved_outside_gate if {
	record := input.alias_of_record
	"registry_version" in object.keys(record)
	record.registry_version != record.version
}

_alias_conflict_outcome := object.get(_promotion, ["alias_moved_outside_gate", stage], "hold")

_alias_moved_message := sprintf(
	"alias %s of %s names %s in the registry, but the gate last installed v%s behind it (alias move %s): it was moved outside the gate; the champion of record v%s stays the baseline",
	[
		input.alias_of_record.alias, input.model.name, _named(input.alias_of_record.registry_version),
		input.alias_of_record.version, input.alias_of_record.move, input.alias_of_record.version,
	],
)

_named(version) := sprintf("v%s", [version]) if is_string(version)

else := "no version"

# METADATA
# title: The alias was set by the gate
# description: |
#   The registry's alias for the target stage names a version, but the ledger holds no move of
#   the gate for that alias: it was set outside the gate (in MLflow, or before the gate was
#   used). That version is no champion of record, so a stage that compares against a champion
#   applies its first-deployment rule; the decision warns, naming the alias and the version.
# custom:
#   code: ALIAS_SET_OUTSIDE_GATE
#   severity: medium
#   controls: ["SR 11-7 IV", "EU AI Act Art. 12"]
#   when_present: [alias_unrecorded]
warn contains reason if {
	unrecorded := input.alias_unrecorded
	msg := sprintf(
		"alias %s of %s names v%s in the registry, but the gate has never moved it: it was set outside the gate, so v%s is no champion of record",
		[unrecorded.alias, input.model.name, unrecorded.registry_version, unrecorded.registry_version],
	)
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": "alias_unrecorded"})
}
