-- id: cloudtrail_trail_enabled
-- title: Every region is covered by a logging trail
-- description: Alarms per account and region when no logging trail covers the region: neither a trail of that
--   region nor a multi-region trail (which covers every region) is logging. A region whose only covering trails
--   are organization trails of another account, whose status cannot be read from here, is info.
-- severity: high
-- resource_type: account and region
-- remediation: Start the trail that should cover the region, or create a multi-region trail.
--   Console: CloudTrail > Trails > (trail) > Start logging; or Create trail, which applies to all regions by default.
--   CLI: aws cloudtrail start-logging --name TRAIL_NAME
--   CLI: aws cloudtrail create-trail --name account-trail --s3-bucket-name BUCKET --is-multi-region-trail && aws cloudtrail start-logging --name account-trail
-- frameworks: fsbp: CloudTrail.3, config: cloudtrail-enabled
-- aliases:
-- parameters:
WITH regions AS (
    -- Every account and region whose trails were listed, so that a region without any trail is judged too.
    SELECT DISTINCT account_id, region
    FROM apigw_sql_fetch_log
    WHERE service = 'cloudtrail' AND operation = 'DescribeTrails' AND error_code IS NULL
),
covering AS (
    -- The rows of a region are the trails that cover it: its own trails and the copies of multi-region trails.
    SELECT account_id, region,
           string_agg(format('{} ({})', name, home_region), ', ' ORDER BY name) FILTER (WHERE is_logging) AS logging,
           string_agg(format('{} ({})', name, home_region), ', ' ORDER BY name)
               FILTER (WHERE status_unavailable_reason IS NULL AND NOT coalesce(is_logging, false)) AS stopped,
           string_agg(format('{} ({})', name, status_unavailable_reason), '; ' ORDER BY name)
               FILTER (WHERE is_logging IS NULL AND status_unavailable_reason IS NOT NULL) AS unreadable
    FROM aws_cloudtrail_trail
    GROUP BY account_id, region
)
SELECT format('arn:{}:::{}', CASE WHEN starts_with(r.region, 'cn-') THEN 'aws-cn'
                                  WHEN starts_with(r.region, 'us-gov-') THEN 'aws-us-gov' ELSE 'aws' END,
              r.account_id) AS resource,
       CASE WHEN c.logging IS NOT NULL THEN 'ok' WHEN c.unreadable IS NOT NULL THEN 'info' ELSE 'alarm' END AS status,
       format('Region {} of account {}', r.region, r.account_id) ||
       CASE WHEN c.logging IS NOT NULL THEN ' is covered by logging trail(s) ' || c.logging || '.'
            WHEN c.unreadable IS NOT NULL
                THEN ' may be covered by trail(s) whose status cannot be read from this account: ' || c.unreadable
                     || coalesce('; its own trails are not logging: ' || c.stopped, '') || '.'
            WHEN c.stopped IS NOT NULL THEN ' is covered by no logging trail: ' || c.stopped || ' stopped logging.'
            ELSE ' is covered by no trail at all.' END AS reason,
       r.account_id, r.region, c.logging AS logging_trails
FROM regions r
LEFT JOIN covering c USING (account_id, region);
