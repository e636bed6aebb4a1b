# METADATA
# title: Metric checks
# description: |
#   Floors, ceilings and champion comparisons with MLflow MetricThreshold semantics
#   (threshold, min_absolute_change, min_relative_change, greater_is_better).
package mlgate.lib.metrics

# METADATA
# description: True when the metric is reported and numeric.
has_metric(values, name) if is_number(values[name])

meets_floor(values, name, floor) if values[name] >= floor

within_ceiling(values, name, ceiling) if values[name] <= ceiling

# METADATA
# description: |
#   MLflow: greater is better fails when candidate < baseline + min_absolute_change;
#   lower is better fails when candidate > baseline - min_absolute_change.
meets_absolute_change(candidate, baseline, spec) if {
	not _greater_is_better(spec)
	candidate <= baseline - spec.min_absolute_change
}

meets_absolute_change(candidate, baseline, spec) if {
	_greater_is_better(spec)
	candidate >= baseline + spec.min_absolute_change
}

# METADATA
# description: |
#   MLflow: the relative change ((c - b) / b, or (b - c) / b when lower is better) must be at
#   least min_relative_change. Undefined (so failing) when the baseline is 0.
meets_relative_change(candidate, baseline, spec) if {
	baseline != 0
	relative_change(candidate, baseline, spec) >= spec.min_relative_change
}

relative_change(candidate, baseline, spec) := (candidate - baseline) / baseline if {
	_greater_is_better(spec)
} else := (baseline - candidate) / baseline

_greater_is_better(spec) if object.get(spec, "greater_is_better", true) == true

# METADATA
# description: Largest minus smallest value of a metric across the groups that report it.
group_gap(groups, metric) := max(values) - min(values) if {
	values := [v | some group in groups; v := group[metric]; is_number(v)]
	count(values) > 0
}
