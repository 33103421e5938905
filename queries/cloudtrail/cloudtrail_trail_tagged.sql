-- id: cloudtrail_trail_tagged
-- title: Trails are tagged
-- description: Alarms when a trail has no tags other than AWS system tags (aws:...), so its owner and purpose are
--   unknown. A multi-region trail is judged once, from its home region's copy; a trail whose tags cannot be read
--   from this account (an organization trail of another account) is info.
-- severity: low
-- resource_type: trail
-- remediation: Tag the trail, at least with its owner.
--   Console: CloudTrail > Trails > (trail) > Tags > Edit > Add tag.
--   CLI: aws cloudtrail add-tags --resource-id arn:aws:cloudtrail:REGION:ACCOUNT_ID:trail/TRAIL_NAME --tags-list Key=owner,Value=security
-- frameworks: fsbp: CloudTrail.9
-- aliases:
-- parameters:
WITH trails AS (
    -- A multi-region trail appears in every region (shadow copies): judge it once, from the home copy when its
    -- region was read (every copy carries the same tags).
    SELECT t.*, split_part(t.arn, ':', 5) <> t.account_id AS other_owner,
           (SELECT string_agg(k.key, ', ' ORDER BY k.key) FROM json_each(t.tags) k
            WHERE NOT starts_with(k.key, 'aws:')) AS tag_keys
    FROM aws_cloudtrail_trail t
    QUALIFY row_number() OVER (PARTITION BY t.account_id, t.arn ORDER BY t.is_shadow, t.region) = 1
)
SELECT arn AS resource,
       CASE WHEN other_owner OR tags IS NULL THEN 'info' WHEN tag_keys IS NULL THEN 'alarm' ELSE 'ok' END AS status,
       format('Trail {} ({})', name, home_region) ||
       CASE WHEN other_owner THEN format(' is owned by account {} and is judged there.', split_part(arn, ':', 5))
            WHEN tags IS NULL THEN ' cannot be judged: its tags cannot be read (' || coalesce(status_unavailable_reason, 'unknown') || ').'
            WHEN tag_keys IS NULL THEN ' has no tags.'
            ELSE ' is tagged: ' || tag_keys || '.' END AS reason,
       account_id, home_region AS region, name AS trail_name, tag_keys
FROM trails;
