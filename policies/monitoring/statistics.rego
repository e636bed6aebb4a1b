# Canary versus baseline over the judged intervals, as Netflix's Kayenta judges a canary: the
# service classifies each metric (Mann-Whitney U at statistics.confidence, the allowed ratio of
# means) into input.comparisons; this file turns the classifications into reasons. A critical
# metric deviating in its harmful direction rolls back; the others make a score, 100 x passing /
# classified (no data left out), held under pass_score and rolled back under marginal_score.
# With fewer than statistics.min_intervals judged intervals the comparisons are not used.
# Statistics only add reasons: they never turn a hold into an allow.
package mlgate.monitoring

import data.mlgate.lib.metrics
import data.mlgate.lib.reasons

# This file is loaded (monitoring.rego checks that every file of the package is).
files contains "statistics"

_statistics := object.get(_monitoring, "statistics", {})

_uses_comparisons if count(_judged) >= object.get(_statistics, "min_intervals", 5)

_spec(comparison) := object.get(_statistics, ["metrics", comparison.metric], {})

# Critical or must_have_data when the comparison or the settings say so.
_is_critical(comparison) if comparison.critical == true

_is_critical(comparison) if _spec(comparison).critical == true

_must_have_data(comparison) if comparison.must_have_data == true

_must_have_data(comparison) if _spec(comparison).must_have_data == true

# The harmful direction: increase, decrease or either (the default).
_direction(comparison) := object.get(comparison, "direction", object.get(_spec(comparison), "direction", "either"))

# A comparison passes when classified pass, or when it deviates only in the harmless direction.
_passes(comparison) if comparison.classification == "pass"

_passes(comparison) if {
	comparison.classification == "high"
	_direction(comparison) == "decrease"
}

_passes(comparison) if {
	comparison.classification == "low"
	_direction(comparison) == "increase"
}

_is_classified(comparison) if comparison.classification in {"pass", "high", "low"}

# The ratio of means the classification allowed before calling it high or low.
_allowed(comparison) := ["increase", object.get(_spec(comparison), "allowed_increase", 1)] if {
	comparison.classification == "high"
} else := ["decrease", object.get(_spec(comparison), "allowed_decrease", 1)]

# METADATA
# title: Critical metrics match the baseline
# description: |
#   No metric marked critical deviates from the baseline in its harmful direction (Kayenta's
#   critical metric: its failure fails the canary whatever the score).
# custom:
#   code: MONITORING_CRITICAL_METRIC
#   severity: critical
#   controls: ["SR 11-7 IV", "NIST AI RMF MEASURE 2.4"]
rollback contains reason if {
	_uses_comparisons
	some comparison in input.comparisons
	_is_critical(comparison)
	_is_classified(comparison)
	not _passes(comparison)
	[direction, ratio] := _allowed(comparison)
	msg := sprintf(
		"critical metric %s is %s against the baseline: canary mean %v against %v (n=%v, %v), effect size %v, p-value %v at confidence %v; the allowed %s is %v",
		[
			comparison.metric, comparison.classification, _figure(comparison, ["canary", "mean"]), _figure(comparison, ["baseline", "mean"]),
			_figure(comparison, ["canary", "n"]), _figure(comparison, ["baseline", "n"]),
			_figure(comparison, ["effect_size"]), _figure(comparison, ["p_value"]),
			object.get(comparison, "confidence", object.get(_statistics, "confidence", 0.95)), direction, ratio,
		],
	)
	details := {"metric": comparison.metric, "actual": object.get(comparison, "effect_size", null), "threshold": ratio, "field": "comparisons"}
	reason := reasons.from_rule(rego.metadata.rule(), msg, details)
}

# METADATA
# title: Metrics that must have data have it
# description: |
#   A metric whose comparison must have data (Kayenta's mustHaveData) was measured on both
#   the canary and the baseline; without it the gate holds.
# custom:
#   code: MONITORING_METRIC_NO_DATA
#   severity: medium
#   controls: ["SR 11-7 IV", "NIST AI RMF MEASURE 2.4"]
hold contains reason if {
	_uses_comparisons
	some comparison in input.comparisons
	_must_have_data(comparison)
	not _is_classified(comparison)
	msg := sprintf(
		"%s has no data to compare (canary n=%v, baseline n=%v), and it must have data",
		[comparison.metric, _figure(comparison, ["canary", "n"]), _figure(comparison, ["baseline", "n"])],
	)
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"metric": comparison.metric, "field": "comparisons"})
}

_scored := [comparison |
	some comparison in input.comparisons
	not _is_critical(comparison)
	_is_classified(comparison)
]

_passing := [comparison | some comparison in _scored; _passes(comparison)]

_score := (100 * count(_passing)) / count(_scored) if {
	_uses_comparisons
	count(_scored) > 0
}

_pass_score := object.get(_statistics, "pass_score", 95)

_marginal_score := object.get(_statistics, "marginal_score", 75)

# Only quoted below pass_score (at most 100), so some metric fails.
_score_text := sprintf(
	"canary score %v (%d of %d non-critical metrics pass; %s)",
	[metrics.for_people(_score), count(_passing), count(_scored), concat(", ", _failing)],
)

_failing := [sprintf("%s %s", [c.metric, c.classification]) | some c in _scored; not _passes(c)]

# METADATA
# title: Canary score reaches the marginal score
# description: |
#   Kayenta's canary score over the non-critical metrics (100 x passing / classified, metrics
#   without data left out) is at least statistics.marginal_score; below it the canary fails.
# custom:
#   code: MONITORING_SCORE_FAILED
#   severity: high
#   controls: ["SR 11-7 IV", "NIST AI RMF MEASURE 2.4"]
rollback contains reason if {
	_score < _marginal_score
	msg := sprintf("%s is below the marginal score %v", [_score_text, _marginal_score])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": "comparisons", "actual": _score, "threshold": _marginal_score})
}

# METADATA
# title: Canary score reaches the pass score
# description: |
#   Kayenta's canary score is at least statistics.pass_score; from marginal_score up to it the
#   result is marginal and the gate holds for a person to look.
# custom:
#   code: MONITORING_SCORE_MARGINAL
#   severity: medium
#   controls: ["SR 11-7 IV", "NIST AI RMF MEASURE 2.4"]
hold contains reason if {
	_score >= _marginal_score
	_score < _pass_score
	msg := sprintf("%s is below the pass score %v (marginal from %v)", [_score_text, _pass_score, _marginal_score])
	reason := reasons.from_rule(rego.metadata.rule(), msg, {"field": "comparisons", "actual": _score, "threshold": _pass_score})
}

# A figure of a comparison for people, or "n/a" where the service could not compute it (null).
_figure(comparison, path) := metrics.for_people(x) if {
	x := object.get(comparison, path, null)
	is_number(x)
} else := "n/a"
