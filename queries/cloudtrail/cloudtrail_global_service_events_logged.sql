-- id: cloudtrail_global_service_events_logged
-- title: Exactly one logging trail records global service events
-- description: Alarms per account when no logging trail includes global service events (IAM, STS, CloudFront...),
--   and is info when more than one does, since each such trail records every global event again (duplicates).
--   Organization trails of another account count as possibly logging: their status cannot be read from here.
-- severity: low
-- resource_type: account
-- remediation: Include global service events in one logging trail (a multi-region trail includes them by default) and turn them off in the others.
--   Console: CloudTrail > Trails > (trail) > General details > Edit: a multi-region trail records global service events.
--   CLI: aws cloudtrail update-trail --name TRAIL_NAME --include-global-service-events
--   CLI (duplicates): aws cloudtrail update-trail --name OTHER_TRAIL --no-include-global-service-events
-- frameworks: cloudsploit: globalLoggingDuplicated
-- aliases:
-- parameters:
WITH accounts AS (
    -- Every account whose trails were listed, so that an account with no trail at all is judged too.
    SELECT account_id,
           any_value(CASE WHEN starts_with(region, 'cn-') THEN 'aws-cn'
                          WHEN starts_with(region, 'us-gov-') THEN 'aws-us-gov' ELSE 'aws' END) AS partition
    FROM apigw_sql_fetch_log
    WHERE service = 'cloudtrail' AND operation = 'DescribeTrails' AND error_code IS NULL
    GROUP BY account_id
),
trails AS (
    -- A multi-region trail appears in every region (shadow copies): count it once.
    SELECT *
    FROM aws_cloudtrail_trail
    WHERE include_global_service_events
    QUALIFY row_number() OVER (PARTITION BY account_id, arn ORDER BY is_shadow, region) = 1
),
counted AS (
    SELECT a.account_id, a.partition,
           count(t.arn) FILTER (WHERE t.is_logging) AS logging,
           count(t.arn) FILTER (WHERE t.is_logging IS NULL AND t.status_unavailable_reason IS NOT NULL) AS unreadable,
           string_agg(format('{} ({})', t.name, t.home_region), ', ' ORDER BY t.name)
               FILTER (WHERE t.is_logging OR (t.is_logging IS NULL AND t.status_unavailable_reason IS NOT NULL)) AS trails
    FROM accounts a
    LEFT JOIN trails t ON t.account_id = a.account_id
    GROUP BY a.account_id, a.partition
)
SELECT format('arn:{}:::{}', partition, account_id) AS resource,
       CASE WHEN logging + unreadable = 0 THEN 'alarm' WHEN logging = 1 AND unreadable = 0 THEN 'ok'
            ELSE 'info' END AS status,
       format('Account {}', account_id) ||
       CASE WHEN logging + unreadable = 0 THEN ' has no logging trail that records global service events.'
            WHEN logging = 1 AND unreadable = 0 THEN ' records global service events in one logging trail: ' || trails || '.'
            WHEN logging = 0 THEN ' may record global service events in trail(s) whose status cannot be read from here: '
                                  || trails || '.'
            ELSE format(' records global service events in {} trails, so each global event is logged {} times: {}.',
                        logging + unreadable, logging + unreadable, trails) END AS reason,
       account_id, CAST(NULL AS VARCHAR) AS region, trails AS global_event_trails
FROM counted;
