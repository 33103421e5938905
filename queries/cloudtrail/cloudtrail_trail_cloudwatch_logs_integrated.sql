-- id: cloudtrail_trail_cloudwatch_logs_integrated
-- title: Trails deliver their events to CloudWatch Logs
-- description: Alarms when a trail has no CloudWatch Logs log group, or when its last delivery to the log group
--   is older than the hours parameter (default 24) or failed: metric filters and alarms on its events then see
--   nothing. A multi-region trail is judged once, from its home region's copy; a trail whose status cannot be read
--   from this account (an organization trail of another account) is info.
-- severity: low
-- resource_type: trail
-- remediation: Send the trail's events to a CloudWatch Logs log group, through a role CloudTrail can assume.
--   Console: CloudTrail > Trails > (trail) > CloudWatch Logs > Edit > Enabled; pick or create the log group and the IAM role.
--   CLI: aws cloudtrail update-trail --name TRAIL_NAME --cloud-watch-logs-log-group-arn arn:aws:logs:REGION:ACCOUNT_ID:log-group:GROUP:* --cloud-watch-logs-role-arn arn:aws:iam::ACCOUNT_ID:role/ROLE
-- frameworks: fsbp: CloudTrail.5, config: cloud-trail-cloud-watch-logs-enabled
-- aliases: cloudtrail_cloudwatch_logging_enabled, cloudtrail_trail_integrated_with_logs
-- parameters: hours BIGINT = 24
WITH trails AS (
    -- A multi-region trail appears in every region (shadow copies): judge it once, from the home copy when its
    -- region was read (every copy carries the same settings and status).
    SELECT *, split_part(arn, ':', 5) <> account_id AS other_owner,
           coalesce(getvariable('hours'), 24) AS max_hours,
           date_diff('hour', latest_cloudwatch_logs_delivery_time, now()::TIMESTAMP) AS hours_since
    FROM aws_cloudtrail_trail
    QUALIFY row_number() OVER (PARTITION BY account_id, arn ORDER BY is_shadow, region) = 1
)
SELECT arn AS resource,
       CASE WHEN other_owner OR (cloud_watch_logs_log_group_arn IS NOT NULL AND status_unavailable_reason IS NOT NULL)
                THEN 'info'
            WHEN cloud_watch_logs_log_group_arn IS NULL THEN 'alarm'
            WHEN nullif(latest_cloudwatch_logs_delivery_error, '') IS NOT NULL THEN 'alarm'
            WHEN latest_cloudwatch_logs_delivery_time IS NULL OR hours_since > max_hours THEN 'alarm'
            ELSE 'ok' END AS status,
       format('Trail {} ({})', name, home_region) ||
       CASE WHEN other_owner
                THEN format(' is owned by account {} and is judged there.', split_part(arn, ':', 5))
            WHEN cloud_watch_logs_log_group_arn IS NULL THEN ' does not deliver its events to CloudWatch Logs.'
            WHEN status_unavailable_reason IS NOT NULL
                THEN ' delivers to ' || cloud_watch_logs_log_group_arn || ', but its status cannot be read ('
                     || status_unavailable_reason || ').'
            WHEN nullif(latest_cloudwatch_logs_delivery_error, '') IS NOT NULL
                THEN ' fails to deliver to ' || cloud_watch_logs_log_group_arn || ': '
                     || latest_cloudwatch_logs_delivery_error || '.'
            WHEN latest_cloudwatch_logs_delivery_time IS NULL
                THEN ' names log group ' || cloud_watch_logs_log_group_arn || ' but has never delivered to it.'
            WHEN hours_since > max_hours
                THEN format(' last delivered to {} {} hours ago, more than {} hours.', cloud_watch_logs_log_group_arn,
                            hours_since, max_hours)
            ELSE format(' delivers to {} (last delivery {} hours ago).', cloud_watch_logs_log_group_arn, hours_since)
       END AS reason,
       account_id, home_region AS region, name AS trail_name, cloud_watch_logs_log_group_arn,
       latest_cloudwatch_logs_delivery_time
FROM trails;
