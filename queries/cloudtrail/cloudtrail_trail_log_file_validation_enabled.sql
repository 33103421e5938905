-- id: cloudtrail_trail_log_file_validation_enabled
-- title: Trails validate their log files
-- description: Alarms when a trail has log file validation off: without the signed digest files nobody can
--   prove that a log file was not changed or deleted after delivery. A multi-region trail is judged once, from
--   its home region's copy; an organization trail owned by another account is info (it is judged there).
-- severity: medium
-- resource_type: trail
-- remediation: Turn on log file validation.
--   Console: CloudTrail > Trails > (trail) > General details > Edit > Additional settings > Log file validation: Enabled.
--   CLI: aws cloudtrail update-trail --name TRAIL_NAME --enable-log-file-validation
-- frameworks: fsbp: CloudTrail.4, cis_v5: 3.2, config: cloud-trail-log-file-validation-enabled
-- aliases: cloudtrail_log_file_validation_enabled, cloudtrail_trail_validation_enabled
-- parameters:
WITH trails AS (
    -- A multi-region trail appears in every region (shadow copies): judge it once, from the home copy when its
    -- region was read (every copy carries the same settings).
    SELECT *, split_part(arn, ':', 5) <> account_id AS other_owner
    FROM aws_cloudtrail_trail
    QUALIFY row_number() OVER (PARTITION BY account_id, arn ORDER BY is_shadow, region) = 1
)
SELECT arn AS resource,
       CASE WHEN other_owner THEN 'info' WHEN NOT log_file_validation_enabled THEN 'alarm' ELSE 'ok' END AS status,
       format('Trail {} ({})', name, home_region) ||
       CASE WHEN other_owner
                THEN format(' is owned by account {} and is judged there; its log file validation is {}.',
                            split_part(arn, ':', 5), CASE WHEN log_file_validation_enabled THEN 'on' ELSE 'off' END)
            WHEN NOT log_file_validation_enabled
                THEN ' does not validate its log files: no digest files prove them unchanged.'
            ELSE ' validates its log files with signed digest files.' END AS reason,
       account_id, home_region AS region, name AS trail_name
FROM trails;
