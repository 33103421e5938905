-- id: cloudtrail_bucket_object_lock_enabled
-- title: The S3 buckets of trails have Object Lock enabled
-- description: Alarms when the S3 bucket a trail delivers to does not have S3 Object Lock enabled, so log files
--   can be overwritten or deleted before their retention ends. A bucket this account cannot read (a central log
--   archive in another account) is skip; one whose object lock configuration could not be read is info.
-- severity: medium
-- resource_type: trail's S3 bucket
-- remediation: Enable Object Lock on the bucket (versioning must be on) and set a default retention.
--   Console: S3 > (bucket) > Properties > Object Lock > Edit > Enable; set a default retention mode and period.
--   CLI: aws s3api put-object-lock-configuration --bucket BUCKET --object-lock-configuration '{"ObjectLockEnabled":"Enabled","Rule":{"DefaultRetention":{"Mode":"GOVERNANCE","Days":365}}}'
-- frameworks: cloudsploit: cloudtrailObjectLock
-- aliases:
-- parameters:
WITH buckets AS (
    -- Trails of several regions may name one bucket: judge it once, with every trail that names it.
    SELECT *, list_sort(list_distinct(flatten(list(trail_arns) OVER (PARTITION BY account_id, name)))) AS all_trails
    FROM aws_s3_bucket
    QUALIFY row_number() OVER (PARTITION BY account_id, name ORDER BY region) = 1
),
judged AS (
    SELECT *, (SELECT string_agg(split_part(t, '/', -1), ', ') FROM unnest(all_trails) AS u(t)) AS trail_names
    FROM buckets
)
SELECT arn AS resource,
       CASE WHEN coalesce(bucket_in_other_account, false) THEN 'skip' WHEN object_lock_enabled IS NULL THEN 'info'
            WHEN object_lock_enabled THEN 'ok' ELSE 'alarm' END AS status,
       format('Bucket {} of trail(s) {}', name, trail_names) ||
       CASE WHEN coalesce(bucket_in_other_account, false) THEN ' belongs to another account, which judges it.'
            WHEN object_lock_enabled IS NULL THEN ' could not be read: ' || coalesce(error, 'unknown error') || '.'
            WHEN object_lock_enabled THEN ' has S3 Object Lock enabled.'
            ELSE ' does not have S3 Object Lock enabled.' END AS reason,
       account_id, coalesce(bucket_region, region) AS region, name AS bucket_name, all_trails AS trail_arns
FROM judged;
