package mlgate.promotion_test

test_promotion_denied_when_card_section_missing if {
	doc := json.patch(approved, [{"op": "replace", "path": "/model_card/monitoring_plan", "value": "  "}])
	codes(doc) == {"CARD_SECTION_MISSING"}
}

test_card_section_without_a_visible_character_is_missing[note] := passed if {
	some note, text in {
		"zero-width space": "\u200b",
		"zero-width joiner and spaces": " \u200d\u00a0\t",
		"word joiner": "\u2060",
		"empty": "",
	}
	doc := json.patch(approved, [{"op": "replace", "path": "/model_card/monitoring_plan", "value": text}])
	passed := decide(doc).reasons == [{
		"rule": "Model card is complete",
		"code": "CARD_SECTION_MISSING",
		"severity": "high",
		"message": "model_card.monitoring_plan is required for high-risk models and is missing or empty",
		"field": "model_card.monitoring_plan",
		"controls": ["EU AI Act Art. 11", "NIST AI RMF MAP 1.1"],
	}]
}

test_card_section_with_one_visible_character_counts if {
	doc := json.patch(approved, [{"op": "replace", "path": "/model_card/monitoring_plan", "value": "\u200b-"}])
	decide(doc).outcome == "allow"
}
