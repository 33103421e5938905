-- id: apigateway_access_auth_failure_burst
-- title: No source IP collects a burst of authorization failures
-- description: From each stage's access logs, alarms for every source IP and clock hour (UTC) of the window (the
--   window_hours before as_of) in which that IP got at least min_auth_failures responses with status 401 or 403:
--   someone is guessing keys, tokens or passwords. Failures spread over several hours stay under the threshold.
--   One ok row per stage read without such a burst; a stage whose access logs cannot be read, or whose log format
--   has no source IP, is skip, with why.
--   Set as_of (UTC, e.g. '2026-11-29 12:00:00'; empty means now, to the minute) to replay a past day.
-- severity: high
-- resource_type: REST and v2 stage
-- remediation: Block the source IP (AWS WAF IP set or rate-based rule) and check whether any of its requests succeeded.
--   SQL: SELECT request_time, status, http_method, resource_path, caller FROM aws_api_gateway_access_log WHERE api_id = 'API_ID' AND stage = 'STAGE' AND source_ip = 'IP' ORDER BY request_time;
--   CLI: aws wafv2 update-ip-set --scope REGIONAL --name blocked --id IP_SET_ID --addresses IP/32 --lock-token TOKEN
-- frameworks:
-- aliases:
-- parameters: window_hours BIGINT = 24; baseline_days BIGINT = 7; as_of VARCHAR = ''; min_auth_failures BIGINT = 20
WITH clock AS (
    SELECT coalesce(TRY_CAST(nullif(coalesce(getvariable('as_of'), ''), '') AS TIMESTAMP), CAST(date_trunc('minute', now()) AS TIMESTAMP)) AS as_of
),
-- The same read as every usage control (window and baseline), so that one fetch serves them all.
logs AS (
    SELECT l.account_id, l.region, l.api_id, l.stage, l.request_time, l.status, l.source_ip
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
bursts AS (
    SELECT l.account_id, l.region, l.api_id, l.stage, l.source_ip, date_trunc('hour', l.request_time) AS hour,
           count(*) AS failures, count(*) FILTER (WHERE l.status = 401) AS unauthorized,
           count(*) FILTER (WHERE l.status = 403) AS forbidden
    FROM logs l CROSS JOIN clock
    WHERE l.status IN (401, 403) AND l.source_ip IS NOT NULL
      AND l.request_time >= clock.as_of - to_hours(coalesce(getvariable('window_hours'), 24))
    GROUP BY ALL
    HAVING count(*) >= coalesce(getvariable('min_auth_failures'), 20)
)
SELECT s.stage_arn AS resource, 'alarm' AS status,
       format('{}: source IP {} got {} authorization failures ({} with 401, {} with 403) in the hour {} UTC.',
              s.label, b.source_ip, b.failures, b.unauthorized, b.forbidden, strftime(b.hour, '%Y-%m-%d %H:00')) AS reason,
       s.account_id, s.region, s.api_id, s.stage, b.source_ip, strftime(b.hour, '%Y-%m-%dT%H:00:00Z') AS hour, b.failures
FROM bursts b
JOIN stages s ON s.account_id = b.account_id AND s.region = b.region AND s.api_id = b.api_id AND s.stage = b.stage
WHERE s.judged
UNION ALL
SELECT s.stage_arn, CASE WHEN s.judged THEN 'ok' ELSE 'skip' END,
       s.label || CASE WHEN s.judged THEN format(' had no source IP with {} or more 401/403 responses within one hour in the {} hours before {} UTC.',
                                                 coalesce(getvariable('min_auth_failures'), 20), coalesce(getvariable('window_hours'), 24),
                                                 strftime((SELECT as_of FROM clock), '%Y-%m-%d %H:%M'))
                       WHEN s.readable THEN ': its access-log format has no source IP ($context.identity.sourceIp), so failures cannot be told apart by caller.'
                       ELSE format(': its access logs cannot be read: {}.', s.reason) END,
       s.account_id, s.region, s.api_id, s.stage, NULL, NULL, NULL
FROM stages s
WHERE NOT (s.judged AND EXISTS (SELECT 1 FROM bursts b WHERE b.account_id = s.account_id AND b.region = s.region
                                AND b.api_id = s.api_id AND b.stage = s.stage));
