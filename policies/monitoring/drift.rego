# Input drift per interval, as the monitor judged it (each feature's `drifted`, under the
# monitor's own method and threshold; mlgate never re-derives it): no critical feature may
# drift, and at most max_share_drifted of the features may.
package mlgate.monitoring

import data.mlgate.lib.metrics
import data.mlgate.lib.reasons

# This file is loaded (monitoring.rego checks that every file of the package is).
files contains "drift"

_drift := object.get(settings, "drift", {})

_critical_features := object.get(_drift, "critical_features", [])

_features(snapshot) := object.get(snapshot, ["drift", "features"], [])

# A critical feature the interval gives no drift verdict for cannot be judged: an error.
_features_unjudged(snapshot) := {sprintf("critical feature %s has no drift verdict", [name]) |
	some name in _critical_features
	not _has_verdict(snapshot, name)
}

_has_verdict(snapshot, name) if {
	some feature in _features(snapshot)
	feature.name == name
	is_boolean(feature.drifted)
}

_drift_breaks(snapshot) := _critical_drift(snapshot) | _share_drift(snapshot)

_critical_drift(snapshot) := {broken |
	some feature in _features(snapshot)
	feature.name in _critical_features
	feature.drifted == true
	broken := {
		"check": "critical_feature", "feature": feature.name, "actual": object.get(feature, "score", null),
		"threshold": object.get(feature, "threshold", null), "method": object.get(feature, "method", "the monitor's method"),
	}
}

_share_drift(snapshot) := {broken |
	features := _features(snapshot)
	count(features) > 0
	drifted := [feature.name | some feature in features; feature.drifted == true]
	share := count(drifted) / count(features)
	share > _drift.max_share_drifted
	broken := {
		"check": "drift_share", "actual": share, "threshold": _drift.max_share_drifted,
		"drifted": count(drifted), "features": count(features),
	}
}

# METADATA
# title: No critical feature drifts
# description: |
#   In each judged interval, no feature listed in drift.critical_features is judged drifted by
#   the monitor; one without a verdict makes the interval an error. A failed interval counts
#   against failure_limit.
# custom:
#   code: MONITORING_CRITICAL_FEATURE_DRIFTED
#   severity: high
#   controls: ["NIST AI RMF MEASURE 2.4", "EU AI Act Art. 72"]
rollback contains reason if {
	some broken in data.mlgate.monitoring._named_breaks
	broken.check == "critical_feature"
	msg := sprintf(
		"critical feature %s drifted in %s (score %v against threshold %v, %s); %s",
		[broken.feature, broken.interval, broken.actual, broken.threshold, broken.method, broken.tally],
	)
	details := {"field": sprintf("snapshots[%d].drift.features", [broken.index]), "actual": broken.actual, "threshold": broken.threshold}
	reason := reasons.from_rule(rego.metadata.rule(), msg, details)
}

# METADATA
# title: Few features drift
# description: |
#   In each judged interval that reports drift, the share of features judged drifted is at
#   most drift.max_share_drifted. A failed interval counts against failure_limit.
# custom:
#   code: MONITORING_DRIFT_SHARE
#   severity: high
#   controls: ["NIST AI RMF MEASURE 2.4", "EU AI Act Art. 72"]
rollback contains reason if {
	some broken in data.mlgate.monitoring._named_breaks
	broken.check == "drift_share"
	msg := sprintf(
		"%d of %d features drifted in %s, a share of %v above the %s max_share_drifted %v; %s",
		[broken.drifted, broken.features, broken.interval, metrics.for_people(broken.actual), stage, broken.threshold, broken.tally],
	)
	details := {"field": sprintf("snapshots[%d].drift.features", [broken.index]), "actual": broken.actual, "threshold": broken.threshold}
	reason := reasons.from_rule(rego.metadata.rule(), msg, details)
}
