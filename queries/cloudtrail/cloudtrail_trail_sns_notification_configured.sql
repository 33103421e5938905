-- id: cloudtrail_trail_sns_notification_configured
-- title: Trails notify an SNS topic of each log file delivery
-- description: Alarms when a trail has no SNS topic, so nothing downstream learns of new log files as they are
--   delivered. A multi-region trail is judged once, from its home region's copy; an organization trail owned by
--   another account is info (it is judged there).
-- severity: low
-- resource_type: trail
-- remediation: Create an SNS topic whose policy lets CloudTrail publish, and set it on the trail.
--   Console: CloudTrail > Trails > (trail) > General details > Edit > SNS notification delivery: Enabled.
--   CLI: aws cloudtrail update-trail --name TRAIL_NAME --sns-topic-name TOPIC_NAME
-- frameworks: cloudsploit: cloudtrailNotificationsEnabled
-- aliases:
-- parameters:
WITH trails AS (
    -- A multi-region trail appears in every region (shadow copies): judge it once, from the home copy when its
    -- region was read (every copy carries the same settings).
    SELECT *, split_part(arn, ':', 5) <> account_id AS other_owner
    FROM aws_cloudtrail_trail
    QUALIFY row_number() OVER (PARTITION BY account_id, arn ORDER BY is_shadow, region) = 1
)
SELECT arn AS resource,
       CASE WHEN other_owner THEN 'info' WHEN coalesce(sns_topic_arn, sns_topic_name) IS NULL THEN 'alarm'
            ELSE 'ok' END AS status,
       format('Trail {} ({})', name, home_region) ||
       CASE WHEN other_owner
                THEN format(' is owned by account {} and is judged there; it {}.', split_part(arn, ':', 5),
                            coalesce('notifies SNS topic ' || coalesce(sns_topic_arn, sns_topic_name), 'has no SNS topic'))
            WHEN coalesce(sns_topic_arn, sns_topic_name) IS NULL THEN ' notifies no SNS topic of its log file deliveries.'
            ELSE ' notifies SNS topic ' || coalesce(sns_topic_arn, sns_topic_name) || ' of each log file delivery.'
       END AS reason,
       account_id, home_region AS region, name AS trail_name, sns_topic_arn
FROM trails;
