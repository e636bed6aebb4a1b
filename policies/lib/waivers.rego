# METADATA
# title: Waivers
# description: |
#   A waiver is a time-boxed, approved exception for one rule code on one model version.
#   It turns that rule's violation into a warning until it expires; an expired one does nothing.
package mlgate.lib.waivers

is_active(waiver, code, model, now_ns) if {
	waiver.rule_code == code
	waiver.model == model.name
	waiver.version == model.version
	time.parse_rfc3339_ns(waiver.expires_at) > now_ns
}

# METADATA
# description: The first active waiver for the reason's code, undefined when none applies.
matching(reason, waivers, model, now_ns) := matches[0] if {
	matches := [w | some w in waivers; is_active(w, reason.code, model, now_ns)]
	count(matches) > 0
}
