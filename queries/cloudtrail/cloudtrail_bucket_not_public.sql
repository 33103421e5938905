-- id: cloudtrail_bucket_not_public
-- title: The S3 buckets of trails are not public
-- description: Alarms when the S3 bucket a trail delivers to grants access to everyone or to any AWS user in its
--   ACL, has a policy that allows any principal without a restricting condition, or does not turn on all four
--   settings of its public access block (the account-level public access block is not read). A bucket this account
--   cannot read (a central log archive in another account) is skip; one that could not be read for another reason
--   is info.
-- severity: critical
-- resource_type: trail's S3 bucket
-- remediation: Remove public ACL grants and public policy statements, then turn on the bucket's public access block.
--   Console: S3 > (bucket) > Permissions > Block public access > Edit > Block all public access; review Bucket policy and Access control list.
--   CLI: aws s3api put-public-access-block --bucket BUCKET --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
--   CLI: aws s3api put-bucket-acl --bucket BUCKET --acl private
-- frameworks: fsbp: CloudTrail.6
-- aliases: cloudtrail_logs_s3_bucket_is_not_publicly_accessible
-- parameters:
WITH buckets AS (
    -- Trails of several regions may name one bucket: judge it once, with every trail that names it.
    SELECT *, list_sort(list_distinct(flatten(list(trail_arns) OVER (PARTITION BY account_id, name)))) AS all_trails,
           concat_ws(', ',
               CASE WHEN NOT block_public_acls THEN 'BlockPublicAcls' END,
               CASE WHEN NOT ignore_public_acls THEN 'IgnorePublicAcls' END,
               CASE WHEN NOT block_public_policy THEN 'BlockPublicPolicy' END,
               CASE WHEN NOT restrict_public_buckets THEN 'RestrictPublicBuckets' END) AS block_off
    FROM aws_s3_bucket
    QUALIFY row_number() OVER (PARTITION BY account_id, name ORDER BY region) = 1
),
judged AS (
    SELECT *,
           (SELECT string_agg(split_part(t, '/', -1), ', ') FROM unnest(all_trails) AS u(t)) AS trail_names,
           concat_ws('; ',
               CASE WHEN array_length(acl_public_grants) > 0 THEN 'its ACL grants ' || array_to_string(acl_public_grants, ', ') END,
               CASE WHEN policy_is_public THEN 'its policy allows any principal without a restricting condition' END,
               CASE WHEN block_off <> '' THEN 'its public access block leaves off ' || block_off END) AS exposure,
           acl_public_grants IS NULL OR policy_is_public IS NULL OR block_public_acls IS NULL AS unread
    FROM buckets
)
SELECT arn AS resource,
       CASE WHEN coalesce(bucket_in_other_account, false) THEN 'skip' WHEN exposure <> '' THEN 'alarm' WHEN unread THEN 'info'
            ELSE 'ok' END AS status,
       format('Bucket {} of trail(s) {}', name, trail_names) ||
       CASE WHEN coalesce(bucket_in_other_account, false) THEN ' belongs to another account, which judges it.'
            WHEN exposure <> '' THEN ' may be public: ' || exposure || '.'
            WHEN unread THEN ' could not be read: ' || coalesce(error, 'unknown error') || '.'
            ELSE ' is not public: no public ACL grant, no public policy, and its public access block is fully on.' END
           AS reason,
       account_id, coalesce(bucket_region, region) AS region, name AS bucket_name, all_trails AS trail_arns
FROM judged;
