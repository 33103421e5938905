-- id: cloudtrail_bucket_access_logging_enabled
-- title: The S3 buckets of trails log access requests
-- description: Alarms when the S3 bucket a trail delivers to has server access logging off, so reads and
--   deletions of the log files themselves leave no trace. A bucket this account cannot read (a central log archive
--   in another account) is skip; one whose logging settings could not be read for another reason is info.
-- severity: medium
-- resource_type: trail's S3 bucket
-- remediation: Turn on server access logging for the bucket, into another bucket.
--   Console: S3 > (bucket) > Properties > Server access logging > Edit > Enable; choose a target bucket.
--   CLI: aws s3api put-bucket-logging --bucket BUCKET --bucket-logging-status '{"LoggingEnabled":{"TargetBucket":"LOG_BUCKET","TargetPrefix":"cloudtrail/"}}'
-- frameworks: fsbp: CloudTrail.7, cis_v5: 3.4
-- aliases: cloudtrail_logs_s3_bucket_access_logging_enabled
-- parameters:
WITH buckets AS (
    -- Trails of several regions may name one bucket: judge it once, with every trail that names it.
    SELECT *, list_sort(list_distinct(flatten(list(trail_arns) OVER (PARTITION BY account_id, name)))) AS all_trails,
           -- GetBucketLogging answers with no LoggingEnabled when logging is off: null is "off" unless the call failed.
           logging IS NULL AND NOT coalesce(contains(error, 'GetBucketLogging') OR starts_with(error, 'GetBucketLocation'),
                                            false) AS logging_off
    FROM aws_s3_bucket
    QUALIFY row_number() OVER (PARTITION BY account_id, name ORDER BY region) = 1
),
judged AS (
    SELECT *, (SELECT string_agg(split_part(t, '/', -1), ', ') FROM unnest(all_trails) AS u(t)) AS trail_names
    FROM buckets
)
SELECT arn AS resource,
       CASE WHEN coalesce(bucket_in_other_account, false) THEN 'skip' WHEN logging IS NOT NULL THEN 'ok'
            WHEN logging_off THEN 'alarm' ELSE 'info' END AS status,
       format('Bucket {} of trail(s) {}', name, trail_names) ||
       CASE WHEN coalesce(bucket_in_other_account, false) THEN ' belongs to another account, which judges it.'
            WHEN logging IS NOT NULL THEN ' logs access requests to bucket ' || coalesce(logging_target_bucket, '?') || '.'
            WHEN logging_off THEN ' does not log access requests.'
            ELSE ' could not be read: ' || coalesce(error, 'unknown error') || '.' END AS reason,
       account_id, coalesce(bucket_region, region) AS region, name AS bucket_name, all_trails AS trail_arns,
       logging_target_bucket
FROM judged;
