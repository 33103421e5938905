-- id: cloudtrail_bucket_mfa_delete_enabled
-- title: The S3 buckets of trails require MFA to delete object versions
-- description: Alarms when the S3 bucket a trail delivers to does not have MFA delete enabled, so stolen
--   credentials alone can delete log file versions or suspend versioning. A bucket this account cannot read (a
--   central log archive in another account) is skip; one whose versioning could not be read is info.
-- severity: medium
-- resource_type: trail's S3 bucket
-- remediation: Enable versioning with MFA delete; only the root user, with its MFA device, can do this.
--   Console: not available; use the CLI signed in as the root user.
--   CLI: aws s3api put-bucket-versioning --bucket BUCKET --versioning-configuration Status=Enabled,MFADelete=Enabled --mfa 'arn:aws:iam::ACCOUNT_ID:mfa/root-account-mfa-device CODE'
-- frameworks:
-- aliases: cloudtrail_bucket_requires_mfa_delete, cloudtrail_trail_bucket_mfa_enabled
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
       CASE WHEN coalesce(bucket_in_other_account, false) THEN 'skip' WHEN mfa_delete IS NULL THEN 'info'
            WHEN mfa_delete = 'Enabled' THEN 'ok' ELSE 'alarm' END AS status,
       format('Bucket {} of trail(s) {}', name, trail_names) ||
       CASE WHEN coalesce(bucket_in_other_account, false) THEN ' belongs to another account, which judges it.'
            WHEN mfa_delete IS NULL THEN ' could not be read: ' || coalesce(error, 'unknown error') || '.'
            WHEN mfa_delete = 'Enabled' THEN ' requires MFA to delete object versions.'
            ELSE format(' does not require MFA to delete object versions (versioning {}).',
                        coalesce(versioning_status, 'never enabled')) END AS reason,
       account_id, coalesce(bucket_region, region) AS region, name AS bucket_name, all_trails AS trail_arns,
       versioning_status
FROM judged;
