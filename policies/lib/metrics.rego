# METADATA
# title: Metric checks
# description: |
#   Floors, ceilings, champion comparisons and group gaps. The champion comparisons are
#   MLflow's MetricThreshold formulas (mlflow.models.evaluation.validation._validate),
#   the fallback for a champion value of 0 included. mlgate goes beyond MLflow in one way:
#   a negative min_absolute_change or min_relative_change is a tolerated drop, which
#   MLflow's MetricThreshold refuses; the formulas are the same.
package mlgate.lib.metrics

# METADATA
# description: True when the metric is reported and numeric.
has_metric(values, name) if is_number(values[name])

meets_floor(values, name, floor) if values[name] >= floor

within_ceiling(values, name, ceiling) if values[name] <= ceiling

# METADATA
# description: |
#   MLflow: greater is better passes when candidate >= baseline + min_absolute_change;
#   lower is better passes when candidate <= baseline - min_absolute_change.
meets_absolute_change(candidate, baseline, spec) if {
	_greater_is_better(spec)
	candidate >= absolute_change_threshold(baseline, spec)
}

meets_absolute_change(candidate, baseline, spec) if {
	not _greater_is_better(spec)
	candidate <= absolute_change_threshold(baseline, spec)
}

# METADATA
# description: The value the candidate must reach, in the metric's unit.
absolute_change_threshold(baseline, spec) := baseline + spec.min_absolute_change if {
	_greater_is_better(spec)
} else := baseline - spec.min_absolute_change

# METADATA
# description: |
#   MLflow: the relative change (c - b) / |b| (or (b - c) / |b| when lower is better) must be
#   at least min_relative_change. A baseline of 0 falls back to "better than the baseline by
#   1e-10": c >= 1e-10 when greater is better, c <= -1e-10 otherwise.
meets_relative_change(candidate, 0, spec) if {
	_greater_is_better(spec)
	candidate >= zero_baseline_margin
}

meets_relative_change(candidate, 0, spec) if {
	not _greater_is_better(spec)
	candidate <= 0 - zero_baseline_margin
}

meets_relative_change(candidate, baseline, spec) if {
	baseline != 0
	relative_change(candidate, baseline, spec) >= spec.min_relative_change
}

# MLflow's margin for a relative check against a baseline of exactly 0.
zero_baseline_margin := 1e-10

# METADATA
# description: |
#   The improvement as a fraction of the baseline's magnitude: positive is better whatever
#   the direction of the metric. Undefined when the baseline is 0.
relative_change(candidate, baseline, spec) := (candidate - baseline) / abs(baseline) if {
	baseline != 0
	_greater_is_better(spec)
} else := (baseline - candidate) / abs(baseline) if {
	baseline != 0
}

# METADATA
# description: |
#   The value the candidate must reach for the relative check, in the metric's unit:
#   b + min_relative_change * |b| (greater is better) or b - min_relative_change * |b|;
#   the 1e-10 margin when the baseline is 0.
relative_change_threshold(baseline, spec) := zero_baseline_margin if {
	baseline == 0
	_greater_is_better(spec)
} else := 0 - zero_baseline_margin if {
	baseline == 0
} else := baseline + (spec.min_relative_change * abs(baseline)) if {
	_greater_is_better(spec)
} else := baseline - (spec.min_relative_change * abs(baseline))

_greater_is_better(spec) if object.get(spec, "greater_is_better", true) == true

# METADATA
# description: |
#   Largest minus smallest value of a metric across the groups of one attribute. Defined
#   only when every group reports the metric and there are at least two groups.
group_gap(groups, metric) := max(values) - min(values) if {
	values := [v | some group in groups; v := group[metric]; is_number(v)]
	count(values) >= 2
	count(values) == count(groups)
}

# METADATA
# description: Names of the groups that do not report the metric as a number.
groups_missing(groups, metric) := {name | some name, group in groups; not _reports(group, metric)}

# METADATA
# description: How many groups report the metric as a number.
groups_reporting(groups, metric) := count([name | some name, group in groups; _reports(group, metric)])

_reports(group, metric) if is_number(group[metric])

# METADATA
# description: |
#   A number as people read it in a message: four decimal places (exact when smaller
#   than that). The reason's JSON fields keep the exact value.
for_people(x) := x if {
	abs(x) < 0.0001
} else := round(x * 10000) / 10000
