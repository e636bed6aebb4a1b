package mlgate.lib.reasons_test

import data.mlgate.lib.reasons

test_reason_is_built_from_rule_metadata if {
	meta := {"title": "Floors", "custom": {"code": "METRIC_BELOW_FLOOR", "severity": "high", "controls": ["SR 11-7"]}}
	reasons.from_rule(meta, "auc 0.8 is below 0.9", {"metric": "auc"}) == {
		"rule": "Floors",
		"code": "METRIC_BELOW_FLOOR",
		"severity": "high",
		"message": "auc 0.8 is below 0.9",
		"metric": "auc",
		"controls": ["SR 11-7"],
	}
}

# A rule whose METADATA is missing or misspelt still denies, as critical, and says why.
test_reason_without_usable_metadata_is_critical[note] := passed if {
	some note, meta in {
		"no METADATA block": {},
		"custom misspelt": {"title": "Floors", "costum": {"code": "X", "severity": "high"}},
		"code misspelt": {"title": "Floors", "custom": {"cod": "X", "severity": "high"}},
		"code not a string": {"title": "Floors", "custom": {"code": 7, "severity": "high"}},
		"severity missing": {"title": "Floors", "custom": {"code": "METRIC_BELOW_FLOOR"}},
		"severity unknown": {"title": "Floors", "custom": {"code": "METRIC_BELOW_FLOOR", "severity": "hgh"}},
	}
	reason := reasons.from_rule(meta, "auc 0.8 is below 0.9", {})
	passed := [reason.code, reason.severity] == ["RULE_METADATA_MISSING", "critical"]
}

test_reason_without_title_names_the_gap if {
	reasons.from_rule({}, "m", {}) == {
		"rule": "Rule without METADATA",
		"code": "RULE_METADATA_MISSING",
		"severity": "critical",
		"message": "m",
		"controls": [],
	}
}
