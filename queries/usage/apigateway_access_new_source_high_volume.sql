-- id: apigateway_access_new_source_high_volume
-- title: No unknown source IP makes a large number of requests
-- description: From each stage's access logs, alarms for every source IP that made at least min_requests requests
--   in the window (the window_hours before as_of) and none in the baseline (the baseline_days before the window):
--   a scraper, a new integration nobody announced, or stolen credentials used from elsewhere. A heavy caller that
--   was already there in the baseline does not alarm. One ok row per stage read without such a source; a stage
--   whose access logs cannot be read, or whose log format has no source IP, is skip, with why.
--   Set as_of (UTC, e.g. '2026-11-29 12:00:00'; empty means now, to the minute) to replay a past day.
-- severity: medium
-- resource_type: REST and v2 stage
-- remediation: Find out who the source is; if unknown, block it (AWS WAF) or throttle the stage (usage plans, rate-based rules).
--   SQL: SELECT caller, user_agent, resource_path, count(*) FROM aws_api_gateway_access_log WHERE api_id = 'API_ID' AND stage = 'STAGE' AND source_ip = 'IP' GROUP BY ALL ORDER BY 4 DESC;
--   CLI: aws wafv2 update-ip-set --scope REGIONAL --name blocked --id IP_SET_ID --addresses IP/32 --lock-token TOKEN
-- frameworks:
-- aliases:
-- parameters: window_hours BIGINT = 24; baseline_days BIGINT = 7; as_of VARCHAR = ''; min_requests BIGINT = 1000
WITH clock AS (
    SELECT coalesce(TRY_CAST(nullif(coalesce(getvariable('as_of'), ''), '') AS TIMESTAMP), CAST(date_trunc('minute', now()) AS TIMESTAMP)) AS as_of
),
logs AS (
    SELECT l.account_id, l.region, l.api_id, l.stage, l.request_time, l.source_ip
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
                       coalesce(n.name, s.api_id), s.api_id) AS label,
           s.readable AND list_contains(s.columns, 'source_ip') AS judged
    FROM aws_api_gateway_access_log_source s
    LEFT JOIN names n ON n.account_id = s.account_id AND n.region = s.region AND n.api_id = s.api_id
),
per_source AS (
    SELECT l.account_id, l.region, l.api_id, l.stage, l.source_ip,
           count(*) FILTER (WHERE l.request_time >= clock.as_of - to_hours(coalesce(getvariable('window_hours'), 24))) AS in_window,
           count(*) FILTER (WHERE l.request_time < clock.as_of - to_hours(coalesce(getvariable('window_hours'), 24))) AS in_baseline,
           min(l.request_time) FILTER (WHERE l.request_time >= clock.as_of - to_hours(coalesce(getvariable('window_hours'), 24))) AS first_seen
    FROM logs l CROSS JOIN clock
    WHERE l.source_ip IS NOT NULL
    GROUP BY ALL
),
newcomers AS (
    SELECT * FROM per_source WHERE in_baseline = 0 AND in_window >= coalesce(getvariable('min_requests'), 1000)
)
SELECT s.stage_arn AS resource, 'alarm' AS status,
       format('{}: source IP {}, never seen in the {} days before, made {} requests in the {} hours before {} UTC (first at {} UTC).',
              s.label, x.source_ip, coalesce(getvariable('baseline_days'), 7), x.in_window, coalesce(getvariable('window_hours'), 24),
              strftime((SELECT as_of FROM clock), '%Y-%m-%d %H:%M'), strftime(x.first_seen, '%Y-%m-%d %H:%M')) AS reason,
       s.account_id, s.region, s.api_id, s.stage, x.source_ip, x.in_window AS requests
FROM newcomers x
JOIN stages s ON s.account_id = x.account_id AND s.region = x.region AND s.api_id = x.api_id AND s.stage = x.stage
WHERE s.judged
UNION ALL
SELECT s.stage_arn, CASE WHEN s.judged THEN 'ok' ELSE 'skip' END,
       s.label || CASE WHEN s.judged THEN format(' had no source IP absent from its {}-day baseline with {} or more requests in the {} hours before {} UTC.',
                                                 coalesce(getvariable('baseline_days'), 7), coalesce(getvariable('min_requests'), 1000), coalesce(getvariable('window_hours'), 24),
                                                 strftime((SELECT as_of FROM clock), '%Y-%m-%d %H:%M'))
                       WHEN s.readable THEN ': its access-log format has no source IP ($context.identity.sourceIp), so callers cannot be told apart.'
                       ELSE format(': its access logs cannot be read: {}.', s.reason) END,
       s.account_id, s.region, s.api_id, s.stage, NULL, NULL
FROM stages s
WHERE NOT (s.judged AND EXISTS (SELECT 1 FROM newcomers x WHERE x.account_id = s.account_id AND x.region = s.region
                                AND x.api_id = s.api_id AND x.stage = s.stage));
