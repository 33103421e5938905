-- id: apigateway_access_error_spike
-- title: No hour with a spike of error responses
-- description: From each stage's access logs, alarms for every clock hour (UTC) of the window (the window_hours
--   before as_of) with at least min_errors responses of status 400 or more (401, 403 and 429 included) and at
--   least spike_factor times the stage's median hourly error count over the baseline (the baseline_days before
--   the window; hours without errors count as 0). A steady error level or a daily peak stays under the factor;
--   a scan, a broken release or a credential-stuffing run does not. One ok row per stage read without such an
--   hour; a stage whose access logs cannot be read is skip, with why.
--   Set as_of (UTC, e.g. '2026-11-29 12:00:00'; empty means now, to the minute) to replay a past day.
-- severity: medium
-- resource_type: REST and v2 stage
-- remediation: Look at the hour's errors to tell an attack from a broken deployment.
--   SQL: SELECT status, source_ip, resource_path, count(*) FROM aws_api_gateway_access_log WHERE api_id = 'API_ID' AND stage = 'STAGE' AND status >= 400 AND request_time >= TIMESTAMP 'HOUR' AND request_time < TIMESTAMP 'HOUR' + INTERVAL 1 HOUR GROUP BY ALL ORDER BY 4 DESC;
--   CLI (roll back): aws apigateway update-stage --rest-api-id API_ID --stage-name STAGE --patch-operations op=replace,path=/deploymentId,value=PREVIOUS_DEPLOYMENT_ID
--   Or block the sources with an AWS WAF rate-based rule on the stage.
-- frameworks:
-- aliases:
-- parameters: window_hours BIGINT = 24; baseline_days BIGINT = 7; as_of VARCHAR = ''; min_errors BIGINT = 50; spike_factor DOUBLE = 10
WITH clock AS (
    SELECT coalesce(TRY_CAST(nullif(coalesce(getvariable('as_of'), ''), '') AS TIMESTAMP), CAST(date_trunc('minute', now()) AS TIMESTAMP)) AS as_of
),
span AS (
    SELECT as_of, as_of - to_hours(coalesce(getvariable('window_hours'), 24)) AS window_start,
           as_of - to_hours(coalesce(getvariable('window_hours'), 24)) - to_days(coalesce(getvariable('baseline_days'), 7)) AS baseline_start
    FROM clock
),
logs AS (
    SELECT l.account_id, l.region, l.api_id, l.stage, l.request_time, l.status
    FROM aws_api_gateway_access_log l
    WHERE l.request_time >= coalesce(TRY_CAST(nullif(coalesce(getvariable('as_of'), ''), '') AS TIMESTAMP), CAST(date_trunc('minute', now()) AS TIMESTAMP))
                            - to_hours(coalesce(getvariable('window_hours'), 24)) - to_days(coalesce(getvariable('baseline_days'), 7))
      AND l.request_time < coalesce(TRY_CAST(nullif(coalesce(getvariable('as_of'), ''), '') AS TIMESTAMP), CAST(date_trunc('minute', now()) AS TIMESTAMP))
),
names AS (
    SELECT account_id, region, api_id, name FROM aws_api_gateway_rest_api
    UNION ALL SELECT account_id, region, api_id, name FROM aws_api_gatewayv2_api
),
stages AS (
    SELECT s.*, format('Stage {} of {} API {} ({})', s.stage, CASE s.api_type WHEN 'WEBSOCKET' THEN 'WebSocket' ELSE s.api_type END,
                       coalesce(n.name, s.api_id), s.api_id) AS label
    FROM aws_api_gateway_access_log_source s
    LEFT JOIN names n ON n.account_id = s.account_id AND n.region = s.region AND n.api_id = s.api_id
),
errors AS (
    SELECT account_id, region, api_id, stage, date_trunc('hour', request_time) AS hour, count(*) AS errors
    FROM logs WHERE status >= 400
    GROUP BY ALL
),
hours AS (
    SELECT unnest(generate_series(date_trunc('hour', baseline_start), window_start - INTERVAL 1 HOUR,
                                  INTERVAL 1 HOUR)) AS hour
    FROM span
),
baseline_hours AS (
    SELECT s.account_id, s.region, s.api_id, s.stage, h.hour
    FROM stages s CROSS JOIN hours h
    WHERE s.readable
),
baseline AS (
    SELECT b.account_id, b.region, b.api_id, b.stage, quantile_cont(coalesce(e.errors, 0), 0.5) AS median_errors
    FROM baseline_hours b
    LEFT JOIN errors e USING (account_id, region, api_id, stage, hour)
    GROUP BY ALL
),
spikes AS (
    SELECT e.*, coalesce(b.median_errors, 0) AS median_errors
    FROM errors e CROSS JOIN span
    LEFT JOIN baseline b ON b.account_id = e.account_id AND b.region = e.region AND b.api_id = e.api_id
                        AND b.stage = e.stage
    WHERE e.hour >= date_trunc('hour', span.window_start)
      AND e.errors >= coalesce(getvariable('min_errors'), 50)
      AND e.errors >= coalesce(getvariable('spike_factor'), 10) * coalesce(b.median_errors, 0)
)
SELECT s.stage_arn AS resource, 'alarm' AS status,
       format('{} answered {} error responses (status 400 or more) in the hour {} UTC: {} over the {} days before.',
              s.label, x.errors, strftime(x.hour, '%Y-%m-%d %H:00'),
              CASE WHEN x.median_errors = 0 THEN 'its median was 0 errors an hour'
                   ELSE format('{} times its median of {} errors an hour', round(x.errors / x.median_errors, 1),
                               round(x.median_errors, 1)) END,
              coalesce(getvariable('baseline_days'), 7)) AS reason,
       s.account_id, s.region, s.api_id, s.stage, strftime(x.hour, '%Y-%m-%dT%H:00:00Z') AS hour, x.errors
FROM spikes x
JOIN stages s USING (account_id, region, api_id, stage)
UNION ALL
SELECT s.stage_arn, CASE WHEN s.readable THEN 'ok' ELSE 'skip' END,
       s.label || CASE WHEN s.readable THEN format(' had no hour with {} or more error responses and {} times its baseline median in the {} hours before {} UTC.',
                                                   coalesce(getvariable('min_errors'), 50), coalesce(getvariable('spike_factor'), 10), coalesce(getvariable('window_hours'), 24),
                                                   strftime((SELECT as_of FROM clock), '%Y-%m-%d %H:%M'))
                       ELSE format(': its access logs cannot be read: {}.', s.reason) END,
       s.account_id, s.region, s.api_id, s.stage, NULL, NULL
FROM stages s
WHERE NOT EXISTS (SELECT 1 FROM spikes x WHERE x.account_id = s.account_id AND x.region = s.region
                  AND x.api_id = s.api_id AND x.stage = s.stage);
