-- id: cloudtrail_trail_delivery_healthy
-- title: Trails deliver their log files to S3 without errors
-- description: Alarms when a logging trail's latest delivery to its S3 bucket failed (LatestDeliveryError, e.g.
--   AccessDenied after a bucket policy change), or when it has delivered nothing within the hours parameter
--   (default 24) though it has logged for longer than that. A trail that is not logging is skip unless it reports a
--   delivery error (cloudtrail_trail_enabled judges stopped trails). A multi-region trail is judged once, from its
--   home region's copy; a trail whose status cannot be read from this account is info.
-- severity: medium
-- resource_type: trail
-- remediation: Fix what the delivery error names: usually the bucket policy must let cloudtrail.amazonaws.com call s3:GetBucketAcl and s3:PutObject (and the KMS key policy must let it encrypt), or the bucket was deleted.
--   Console: CloudTrail > Trails > (trail) > General details: the last log file delivery error; S3 > (bucket) > Permissions > Bucket policy.
--   CLI: aws cloudtrail get-trail-status --name TRAIL_NAME --query '[LatestDeliveryError,LatestDeliveryTime]'
--   CLI: aws s3api put-bucket-policy --bucket BUCKET --policy file://cloudtrail-bucket-policy.json
-- frameworks: cloudsploit: cloudtrailDeliveryFailing
-- aliases:
-- parameters: hours BIGINT = 24
WITH trails AS (
    -- A multi-region trail appears in every region (shadow copies): judge it once, from the home copy when its
    -- region was read (every copy carries the same status).
    SELECT *, split_part(arn, ':', 5) <> account_id AS other_owner,
           coalesce(getvariable('hours'), 24) AS max_hours,
           date_diff('hour', latest_delivery_time, now()::TIMESTAMP) AS hours_since,
           date_diff('hour', start_logging_time, now()::TIMESTAMP) AS hours_logging,
           nullif(latest_delivery_error, '') AS delivery_error
    FROM aws_cloudtrail_trail
    QUALIFY row_number() OVER (PARTITION BY account_id, arn ORDER BY is_shadow, region) = 1
)
SELECT arn AS resource,
       CASE WHEN other_owner OR status_unavailable_reason IS NOT NULL THEN 'info'
            WHEN delivery_error IS NOT NULL THEN 'alarm'
            WHEN NOT coalesce(is_logging, false) THEN 'skip'
            WHEN coalesce(hours_since, hours_logging, 0) > max_hours THEN 'alarm'
            ELSE 'ok' END AS status,
       format('Trail {} ({})', name, home_region) ||
       CASE WHEN other_owner THEN format(' is owned by account {} and is judged there.', split_part(arn, ':', 5))
            WHEN status_unavailable_reason IS NOT NULL
                THEN ' cannot be judged: its status cannot be read (' || status_unavailable_reason || ').'
            WHEN delivery_error IS NOT NULL
                THEN format(' fails to deliver its log files to bucket {}: {}.', s3_bucket_name, delivery_error)
            WHEN NOT coalesce(is_logging, false) THEN ' is not logging, so it delivers nothing.'
            WHEN latest_delivery_time IS NULL AND coalesce(hours_logging, 0) > max_hours
                THEN format(' has logged for {} hours but never delivered a log file to bucket {}.', hours_logging,
                            s3_bucket_name)
            WHEN latest_delivery_time IS NULL
                THEN format(' started logging {} hours ago and has not delivered a log file yet.', coalesce(hours_logging, 0))
            WHEN hours_since > max_hours
                THEN format(' last delivered a log file to bucket {} {} hours ago, more than {} hours.', s3_bucket_name,
                            hours_since, max_hours)
            ELSE format(' delivers its log files to bucket {} (last delivery {} hours ago).', s3_bucket_name, hours_since)
       END AS reason,
       account_id, home_region AS region, name AS trail_name, latest_delivery_time, delivery_error
FROM trails;
