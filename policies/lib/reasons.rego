# METADATA
# title: Reasons
# description: |
#   Builds every reason object from the METADATA of the rule that raised it, so a rule's
#   code, severity and control ids are written once, beside the rule.
package mlgate.lib.reasons

# METADATA
# title: Reason from rule metadata
# description: |
#   meta is rego.metadata.rule() of the calling rule; details adds metric, field,
#   actual and threshold where the rule has them.
from_rule(meta, message, details) := object.union(
	{
		"rule": meta.title,
		"code": meta.custom.code,
		"severity": meta.custom.severity,
		"message": message,
		"controls": object.get(meta.custom, "controls", []),
	},
	details,
)
