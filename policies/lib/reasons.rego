# METADATA
# title: Reasons
# description: |
#   Builds every reason object from the METADATA of the rule that raised it, so a rule's
#   code, severity and control ids are written once, beside the rule. A rule whose METADATA
#   lacks a code or severity still gives a critical reason (RULE_METADATA_MISSING): it can
#   never go silent. Loading refuses such a rule anyway; this is the second line.
package mlgate.lib.reasons

# METADATA
# title: Reason from rule metadata
# description: |
#   meta is rego.metadata.rule() of the calling rule; details adds metric, field,
#   actual and threshold where the rule has them.
from_rule(meta, message, details) := object.union(
	{
		"rule": _title(meta),
		"code": _code(meta),
		"severity": _severity(meta),
		"message": message,
		"controls": _controls(meta),
	},
	details,
)

_title(meta) := meta.title if {
	is_string(meta.title)
	meta.title != ""
} else := "Rule without METADATA"

_code(meta) := meta.custom.code if {
	_is_complete(meta)
} else := "RULE_METADATA_MISSING"

_severity(meta) := meta.custom.severity if {
	_is_complete(meta)
} else := "critical"

_is_complete(meta) if {
	is_string(meta.custom.code)
	regex.match(`^[A-Z][A-Z0-9_]*$`, meta.custom.code)
	meta.custom.severity in {"info", "low", "medium", "high", "critical"}
}

_controls(meta) := meta.custom.controls if {
	is_array(meta.custom.controls)
} else := []
