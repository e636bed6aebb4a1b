#!/bin/sh
# Publish the monitoring gate's answer for one SageMaker deployment as a CloudWatch metric,
# RollbackOutcome: 1 when mlgate says rollback, 0 on allow or hold. Run it every minute while
# the endpoint is being updated (an EventBridge schedule, a CronJob); the alarm in alarm.json
# fires on 1, and SageMaker's AutoRollbackConfiguration (update-endpoint.json) rolls the
# endpoint back while it bakes.
#
# An answer that is no outcome (the service unreachable, a refused token, an engine failure)
# publishes nothing, and the alarm treats missing data as breaching: a gate that cannot be
# asked rolls back, never lets the update through.
#
# Needs: mlgate (the client: pip install git+URL@COMMIT of this repository), the AWS CLI, and
#   MLGATE_URL, MLGATE_TOKEN (a gate token), MODEL, VERSION, ENDPOINT_NAME; STAGE (production).
# Add --enact to the decide line to also move the registry's alias back through the rollback gate.
set -u
: "${MLGATE_URL:?}" "${MLGATE_TOKEN:?}" "${MODEL:?}" "${VERSION:?}" "${ENDPOINT_NAME:?}"
STAGE=${STAGE:-production}

status=0
mlgate decide monitoring --url "$MLGATE_URL" --model "$MODEL" --version "$VERSION" \
    --stage "$STAGE" || status=$?
case $status in
    0 | 4) value=0 ;; # allow, hold (a hold is bounded: past max_hold the gate says rollback)
    3) value=1 ;; # rollback
    *)
        echo "mlgate gave no monitoring outcome (exit $status): nothing published," \
            "so the alarm sees missing data, which it treats as breaching" >&2
        exit "$status"
        ;;
esac
exec aws cloudwatch put-metric-data --namespace mlgate --metric-name RollbackOutcome \
    --dimensions "EndpointName=$ENDPOINT_NAME" --value "$value" --unit Count
