-- id: apigateway_stage_throttling_configured
-- title: Stages set their own throttling below the account limits
-- description: Alarms when a REST stage's default method setting (*/*) or an HTTP or WebSocket stage's
--   DefaultRouteSettings lacks a rate or burst limit, or sets one that is not below the region's account-level
--   limits (GetAccount throttleSettings): one noisy client can then use the whole account's budget and starve
--   every other API in the region. A negative limit means none.
-- severity: low
-- resource_type: REST and v2 stage
-- remediation: Set stage-level rate and burst limits sized for the API, below the account limits.
--   Console: API Gateway > APIs > (API) > Stages > (stage) > Stage details > Edit > Throttling (REST); Protect > Throttling (HTTP).
--   CLI (REST): aws apigateway update-stage --rest-api-id API_ID --stage-name STAGE --patch-operations op=replace,path=/*/*/throttling/rateLimit,value=100 op=replace,path=/*/*/throttling/burstLimit,value=50
--   CLI (v2): aws apigatewayv2 update-stage --api-id API_ID --stage-name STAGE --default-route-settings ThrottlingRateLimit=100,ThrottlingBurstLimit=50
-- frameworks:
-- aliases:
-- parameters:
WITH judged AS (
    SELECT s.arn AS resource, s.account_id, s.region, s.rest_api_id AS api_id, s.name AS stage_name,
           format('Stage {} of REST API {} ({})', s.name, a.name, s.rest_api_id) AS label,
           m.throttling_rate_limit AS rate, m.throttling_burst_limit AS burst
    FROM aws_api_gateway_stage s
    JOIN aws_api_gateway_rest_api a ON a.api_id = s.rest_api_id AND a.region = s.region AND a.account_id = s.account_id
    LEFT JOIN aws_api_gateway_method_setting m
           ON m.is_default AND m.rest_api_id = s.rest_api_id AND m.stage_name = s.name AND m.region = s.region
          AND m.account_id = s.account_id
    UNION ALL
    SELECT s.arn, s.account_id, s.region, s.api_id, s.stage_name,
           format('Stage {} of {} API {} ({})', s.stage_name, CASE a.protocol_type WHEN 'HTTP' THEN 'HTTP' ELSE 'WebSocket' END,
                  a.name, s.api_id),
           s.default_route_throttling_rate_limit, s.default_route_throttling_burst_limit
    FROM aws_api_gatewayv2_stage s
    JOIN aws_api_gatewayv2_api a ON a.api_id = s.api_id AND a.region = s.region AND a.account_id = s.account_id
),
limits AS (
    SELECT j.*, acct.throttle_rate_limit AS account_rate, acct.throttle_burst_limit AS account_burst,
           j.rate IS NOT NULL AND j.rate >= 0 AND j.burst IS NOT NULL AND j.burst >= 0 AS has_limits,
           (acct.throttle_rate_limit IS NULL OR j.rate < acct.throttle_rate_limit)
               AND (acct.throttle_burst_limit IS NULL OR j.burst < acct.throttle_burst_limit) AS below_account
    FROM judged j
    LEFT JOIN aws_api_gateway_account acct ON acct.region = j.region AND acct.account_id = j.account_id
)
SELECT resource,
       CASE WHEN has_limits AND below_account THEN 'ok' ELSE 'alarm' END AS status,
       label || CASE
           WHEN NOT has_limits THEN ' sets no stage-level rate and burst limit, so only the account limits apply.'
           WHEN NOT below_account THEN format(' throttles at {} requests/s (burst {}), not below the account limits of {} requests/s (burst {}).',
                                              rate, burst, account_rate, account_burst)
           ELSE format(' throttles at {} requests/s (burst {}), below the account limits.', rate, burst) END AS reason,
       account_id, region, api_id, stage_name, rate AS throttling_rate_limit, burst AS throttling_burst_limit
FROM limits;
