-- id: apigateway_metrics_5xx_rate_high
-- title: Stages do not fail a large share of their requests
-- description: From API Gateway's CloudWatch metrics (works without access logs), alarms when over the window (the
--   window_hours before as_of) a stage's 5XXError (REST) or 5xx (HTTP) sum divided by its Count sum is at least
--   max_5xx_rate, with at least min_requests requests. REST metrics are keyed by API name, so two REST APIs with
--   one name in one region share them: the reason says so rather than guess. WebSocket stages publish no 5xx
--   metric and are skip.
--   Set as_of (UTC, e.g. '2026-11-29 12:00:00'; empty means now, to the minute) to replay a past day.
-- severity: low
-- resource_type: REST and v2 stage
-- remediation: Find the failing integration in the stage's execution logs or access logs, fix or roll back the backend, and set a CloudWatch alarm on the 5XXError/5xx metric.
--   CLI: aws cloudwatch put-metric-alarm --alarm-name api-5xx --namespace AWS/ApiGateway --metric-name 5XXError --dimensions Name=ApiName,Value=API_NAME Name=Stage,Value=STAGE --statistic Sum --period 300 --evaluation-periods 1 --threshold 10 --comparison-operator GreaterThanOrEqualToThreshold
-- frameworks:
-- aliases:
-- parameters: window_hours BIGINT = 24; as_of VARCHAR = ''; max_5xx_rate DOUBLE = 0.05; min_requests BIGINT = 100
WITH clock AS (
    SELECT coalesce(TRY_CAST(nullif(coalesce(getvariable('as_of'), ''), '') AS TIMESTAMP), CAST(date_trunc('minute', now()) AS TIMESTAMP)) AS as_of
),
metrics AS (
    SELECT m.account_id, m.region, m.api_id, m.stage, m.metric_name, m.value, m.shares_metrics_with
    FROM aws_api_gateway_metric m
    WHERE m.metric_name IN ('Count', '5XXError', '5xx')
      AND m.timestamp >= coalesce(TRY_CAST(nullif(coalesce(getvariable('as_of'), ''), '') AS TIMESTAMP), CAST(date_trunc('minute', now()) AS TIMESTAMP))
                         - to_hours(coalesce(getvariable('window_hours'), 24))
      AND m.timestamp < coalesce(TRY_CAST(nullif(coalesce(getvariable('as_of'), ''), '') AS TIMESTAMP), CAST(date_trunc('minute', now()) AS TIMESTAMP))
),
totals AS (
    SELECT account_id, region, api_id, stage, sum(value) FILTER (WHERE metric_name = 'Count') AS requests,
           coalesce(sum(value) FILTER (WHERE metric_name IN ('5XXError', '5xx')), 0) AS failures,
           any_value(shares_metrics_with) AS shared
    FROM metrics GROUP BY ALL
),
stages AS (
    SELECT s.arn, s.account_id, s.region, s.rest_api_id AS api_id, s.name AS stage, 'REST' AS api_type,
           format('Stage {} of REST API {} ({})', s.name, a.name, a.api_id) AS label
    FROM aws_api_gateway_stage s
    JOIN aws_api_gateway_rest_api a ON a.api_id = s.rest_api_id AND a.region = s.region AND a.account_id = s.account_id
    UNION ALL
    SELECT s.arn, s.account_id, s.region, s.api_id, s.stage_name, a.protocol_type,
           format('Stage {} of {} API {} ({})', s.stage_name, CASE a.protocol_type WHEN 'HTTP' THEN 'HTTP' ELSE 'WebSocket' END,
                  a.name, a.api_id)
    FROM aws_api_gatewayv2_stage s
    JOIN aws_api_gatewayv2_api a ON a.api_id = s.api_id AND a.region = s.region AND a.account_id = s.account_id
),
judged AS (
    SELECT s.*, coalesce(t.requests, 0) AS requests, coalesce(t.failures, 0) AS failures, t.shared,
           CASE WHEN coalesce(t.requests, 0) > 0 THEN t.failures / t.requests END AS rate
    FROM stages s
    LEFT JOIN totals t ON t.account_id = s.account_id AND t.region = s.region AND t.api_id = s.api_id AND t.stage = s.stage
)
SELECT arn AS resource,
       CASE WHEN api_type = 'WEBSOCKET' THEN 'skip'
            WHEN requests >= coalesce(getvariable('min_requests'), 100) AND rate >= coalesce(getvariable('max_5xx_rate'), 0.05) THEN 'alarm'
            ELSE 'ok' END AS status,
       label ||
       CASE WHEN api_type = 'WEBSOCKET' THEN ' is a WebSocket stage: API Gateway publishes no 5xx metric for it.'
            WHEN requests >= coalesce(getvariable('min_requests'), 100) AND rate >= coalesce(getvariable('max_5xx_rate'), 0.05)
                THEN format(' answered {} of {} requests ({}%) with a 5xx error in the {} hours before {} UTC (threshold {}%).',
                            CAST(failures AS BIGINT), CAST(requests AS BIGINT), round(100 * rate, 1), coalesce(getvariable('window_hours'), 24),
                            strftime((SELECT as_of FROM clock), '%Y-%m-%d %H:%M'), round(100 * coalesce(getvariable('max_5xx_rate'), 0.05), 1))
            WHEN requests < coalesce(getvariable('min_requests'), 100)
                THEN format(' had {} requests in the {} hours before {} UTC, under the {} needed to judge its 5xx rate.',
                            CAST(requests AS BIGINT), coalesce(getvariable('window_hours'), 24), strftime((SELECT as_of FROM clock), '%Y-%m-%d %H:%M'),
                            coalesce(getvariable('min_requests'), 100))
            ELSE format(' answered {} of {} requests ({}%) with a 5xx error in the {} hours before {} UTC.',
                        CAST(failures AS BIGINT), CAST(requests AS BIGINT), round(100 * rate, 1), coalesce(getvariable('window_hours'), 24),
                        strftime((SELECT as_of FROM clock), '%Y-%m-%d %H:%M')) END ||
       CASE WHEN array_length(shared) > 0 THEN format(' These metrics are shared with REST API(s) {} of the same name (AWS keys REST metrics by API name), so they may be theirs.',
                                             array_to_string(shared, ', ')) ELSE '' END AS reason,
       account_id, region, api_id, stage, CAST(requests AS BIGINT) AS requests, CAST(failures AS BIGINT) AS failures
FROM judged;
