-- id: cloudtrail_trail_logs_encrypted_with_kms_cmk
-- title: Trails encrypt their log files with a KMS key
-- description: Alarms when a trail has no KmsKeyId: its log files are encrypted with S3-managed keys only, so
--   anyone who can read the bucket can read them. A multi-region trail is judged once, from its home region's
--   copy; an organization trail owned by another account is info (it is judged in that account).
-- severity: medium
-- resource_type: trail
-- remediation: Create a customer managed KMS key whose policy lets CloudTrail encrypt, and set it on the trail.
--   Console: CloudTrail > Trails > (trail) > General details > Edit > Log file SSE-KMS encryption: Enabled.
--   CLI: aws cloudtrail update-trail --name TRAIL_NAME --kms-key-id arn:aws:kms:REGION:ACCOUNT_ID:key/KEY_ID
-- frameworks: fsbp: CloudTrail.2, cis_v5: 3.5, config: cloud-trail-encryption-enabled
-- aliases: cloudtrail_kms_encryption_enabled
-- parameters:
WITH trails AS (
    -- A multi-region trail appears in every region (shadow copies): judge it once, from the home copy when its
    -- region was read (every copy carries the same settings).
    SELECT *, split_part(arn, ':', 5) <> account_id AS other_owner
    FROM aws_cloudtrail_trail
    QUALIFY row_number() OVER (PARTITION BY account_id, arn ORDER BY is_shadow, region) = 1
)
SELECT arn AS resource,
       CASE WHEN other_owner THEN 'info' WHEN kms_key_id IS NULL THEN 'alarm' ELSE 'ok' END AS status,
       format('Trail {} ({})', name, home_region) ||
       CASE WHEN other_owner
                THEN format(' is owned by account {} and is judged there; it {}.', split_part(arn, ':', 5),
                            CASE WHEN kms_key_id IS NULL THEN 'has no KMS key' ELSE 'uses KMS key ' || kms_key_id END)
            WHEN kms_key_id IS NULL THEN ' encrypts its log files with S3-managed keys only: it has no KMS key.'
            ELSE ' encrypts its log files with KMS key ' || kms_key_id || '.' END AS reason,
       account_id, home_region AS region, name AS trail_name, kms_key_id
FROM trails;
