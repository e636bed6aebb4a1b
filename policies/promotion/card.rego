# The model card: the sections its risk tier requires.
package mlgate.promotion

import data.mlgate.lib.reasons

# This file is loaded (promotion.rego checks that every file of the package is).
files contains "card"

# METADATA
# title: Model card is complete
# description: The card has every section its risk tier requires, each with text.
# custom:
#   code: CARD_SECTION_MISSING
#   severity: high
#   controls: ["EU AI Act Art. 11", "NIST AI RMF MAP 1.1"]
deny contains reason if {
	some section in object.get(settings, "card_sections", [])
	not _has_text(input.model_card, section)
	msg := sprintf("model_card.%s is required for %s-risk models and is missing or empty", [section, tier])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": sprintf("model_card.%s", [section])})
}
