-- id: apigateway_usage_plan_limits_configured
-- title: Usage plans set throttling and a quota
-- description: Alarms when a usage plan lacks a throttle (rate and burst limit) or a quota: its API keys can then
--   call the API as fast and as often as the stage allows, which defeats the plan.
-- severity: medium
-- resource_type: usage plan
-- remediation: Set a rate limit, a burst limit and a quota on the plan.
--   Console: API Gateway > Usage plans > (plan) > Edit > Throttling and Quota.
--   CLI: aws apigateway update-usage-plan --usage-plan-id PLAN_ID --patch-operations op=replace,path=/throttle/rateLimit,value=100 op=replace,path=/throttle/burstLimit,value=200 op=replace,path=/quota/limit,value=100000 op=replace,path=/quota/period,value=MONTH
-- frameworks:
-- aliases:
-- parameters:
WITH plans AS (
    SELECT *, concat_ws(' and ',
                  CASE WHEN throttle_rate_limit IS NULL OR throttle_burst_limit IS NULL THEN 'no throttle (rate and burst limit)' END,
                  CASE WHEN quota_limit IS NULL THEN 'no quota' END) AS missing
    FROM aws_api_gateway_usage_plan
)
SELECT arn AS resource,
       CASE WHEN missing <> '' THEN 'alarm' ELSE 'ok' END AS status,
       format('Usage plan {} ({})', name, id) ||
       CASE WHEN missing <> '' THEN ' has ' || missing || '.'
            ELSE format(' throttles at {} requests/s (burst {}) with a quota of {} per {}.', throttle_rate_limit,
                        throttle_burst_limit, quota_limit, lower(coalesce(quota_period, 'period'))) END AS reason,
       account_id, region, id AS usage_plan_id
FROM plans;
