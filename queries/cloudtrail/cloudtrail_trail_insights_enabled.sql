-- id: cloudtrail_trail_insights_enabled
-- title: Trails have CloudTrail Insights enabled
-- description: Alarms when a trail has no Insights selectors, so unusual API call rates or error rates go
--   unnoticed. A multi-region trail is judged once, from its home region's copy; a trail whose selectors cannot be
--   read from this account (an organization trail of another account) is info.
-- severity: low
-- resource_type: trail
-- remediation: Turn on CloudTrail Insights for API call rate and API error rate on the trail.
--   Console: CloudTrail > Trails > (trail) > Insights events > Edit > Insights events: API call rate, API error rate.
--   CLI: aws cloudtrail put-insight-selectors --trail-name TRAIL_NAME --insight-selectors '[{"InsightType":"ApiCallRateInsight"},{"InsightType":"ApiErrorRateInsight"}]'
-- frameworks:
-- aliases: cloudtrail_insights_exist, cloudtrail_trail_insight_selectors_and_logging_enabled
-- parameters:
WITH trails AS (
    -- A multi-region trail appears in every region (shadow copies): judge it once, from the home copy when its
    -- region was read (every copy carries the same selectors).
    SELECT t.*, split_part(t.arn, ':', 5) <> t.account_id AS other_owner,
           (SELECT string_agg(i.value ->> 'InsightType', ', ') FROM json_each(t.insight_selectors) i) AS insight_types
    FROM aws_cloudtrail_trail t
    QUALIFY row_number() OVER (PARTITION BY t.account_id, t.arn ORDER BY t.is_shadow, t.region) = 1
)
SELECT arn AS resource,
       CASE WHEN other_owner OR insight_selectors IS NULL THEN 'info' WHEN insight_types IS NULL THEN 'alarm'
            ELSE 'ok' END AS status,
       format('Trail {} ({})', name, home_region) ||
       CASE WHEN other_owner THEN format(' is owned by account {} and is judged there.', split_part(arn, ':', 5))
            WHEN insight_selectors IS NULL
                THEN ' cannot be judged: its Insights selectors cannot be read ('
                     || coalesce(status_unavailable_reason, 'unknown') || ').'
            WHEN insight_types IS NULL THEN ' has CloudTrail Insights off.'
            ELSE ' records CloudTrail Insights events: ' || insight_types || '.' END AS reason,
       account_id, home_region AS region, name AS trail_name, insight_types
FROM trails;
