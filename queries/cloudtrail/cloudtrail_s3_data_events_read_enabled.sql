-- id: cloudtrail_s3_data_events_read_enabled
-- title: A multi-region trail records S3 object reads in every bucket
-- description: Alarms per account when no logging multi-region trail records S3 object-level read events
--   (GetObject, HeadObject...) for all buckets: a classic selector with a DataResources entry of type
--   AWS::S3::Object for arn:aws:s3 (every bucket) and ReadWriteType All or ReadOnly, or an advanced selector on
--   eventCategory Data and resources.type AWS::S3::Object that is not limited to writes or narrowed to some buckets.
--   When no trail of the account qualifies and an organization trail of another account might, the account is info.
-- severity: low
-- resource_type: account
-- remediation: Add S3 object-level read events for all buckets to a multi-region trail.
--   Console: CloudTrail > Trails > (trail) > Data events > Edit > Data event type S3, Log selector template: Log readOnly events (or Log all events).
--   CLI: aws cloudtrail put-event-selectors --trail-name TRAIL_NAME --advanced-event-selectors '[{"Name":"Management","FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]}]},{"Name":"S3 reads","FieldSelectors":[{"Field":"eventCategory","Equals":["Data"]},{"Field":"resources.type","Equals":["AWS::S3::Object"]},{"Field":"readOnly","Equals":["true"]}]}]'
-- frameworks: cis_v5: 3.9
-- aliases: cloudtrail_s3_dataevents_read_enabled
-- parameters:
WITH accounts AS (
    -- Every account whose trails were listed, so that an account with no trail at all is judged too.
    SELECT account_id,
           any_value(CASE WHEN starts_with(region, 'cn-') THEN 'aws-cn'
                          WHEN starts_with(region, 'us-gov-') THEN 'aws-us-gov' ELSE 'aws' END) AS partition
    FROM apigw_sql_fetch_log
    WHERE service = 'cloudtrail' AND operation = 'DescribeTrails' AND error_code IS NULL
    GROUP BY account_id
),
trails AS (
    -- A multi-region trail appears in every region (shadow copies): judge it once.
    SELECT *
    FROM aws_cloudtrail_trail
    WHERE is_multi_region_trail
    QUALIFY row_number() OVER (PARTITION BY account_id, arn ORDER BY is_shadow, region) = 1
),
classic AS (
    -- Classic selectors: a DataResources entry for the objects of every bucket ("arn:aws:s3" or "arn:aws:s3:::").
    SELECT t.arn
    FROM trails t, json_each(t.event_selectors) s, json_each(s.value -> 'DataResources') d,
         json_each(d.value -> 'Values') v
    WHERE d.value ->> 'Type' = 'AWS::S3::Object'
      AND regexp_matches(v.value ->> '$', '^arn:aws[a-z-]*:s3(:::)?$')
      AND coalesce(s.value ->> 'ReadWriteType', 'All') IN ('All', 'ReadOnly')
),
advanced_fields AS (
    SELECT t.arn, a.key AS selector, f.value ->> 'Field' AS field,
           coalesce(CAST(f.value -> 'Equals' AS VARCHAR[]), []) AS equals,
           coalesce(CAST(f.value -> 'NotEquals' AS VARCHAR[]), []) AS not_equals,
           array_to_string(coalesce(CAST(f.value -> 'StartsWith' AS VARCHAR[]), []), ',') AS starts_with
    FROM trails t, json_each(t.advanced_event_selectors) a, json_each(a.value -> 'FieldSelectors') f
),
advanced AS (
    -- Advanced selectors on the data events of S3 objects, not limited to writes, in every bucket.
    SELECT arn
    FROM advanced_fields
    GROUP BY arn, selector
    HAVING bool_or(field = 'eventCategory' AND list_contains(equals, 'Data'))
       AND bool_or(field = 'resources.type' AND list_contains(equals, 'AWS::S3::Object'))
       AND NOT bool_or(field = 'readOnly' AND (list_contains(equals, 'false') OR list_contains(not_equals, 'true'))
                       AND NOT (list_contains(equals, 'true') OR list_contains(not_equals, 'false')))
       AND bool_and(field IN ('eventCategory', 'resources.type', 'readOnly')
                    OR (field = 'resources.ARN' AND regexp_matches(starts_with, '^arn:aws[a-z-]*:s3:::$')))
),
judged AS (
    SELECT t.account_id, t.arn, t.name, t.home_region, t.status_unavailable_reason,
           coalesce(t.is_logging, false) AS logging,
           t.arn IN (SELECT arn FROM classic UNION ALL SELECT arn FROM advanced) AS records
    FROM trails t
),
per_account AS (
    SELECT a.account_id, a.partition,
           string_agg(format('{} ({})', j.name, j.home_region), ', ' ORDER BY j.name) FILTER (WHERE j.records AND j.logging)
               AS qualifying,
           string_agg(format('{} ({})', j.name, j.home_region), ', ' ORDER BY j.name) FILTER (WHERE j.records AND NOT j.logging)
               AS stopped,
           string_agg(format('{} ({})', j.name, j.home_region), ', ' ORDER BY j.name)
               FILTER (WHERE j.status_unavailable_reason IS NOT NULL) AS unreadable,
           count(j.arn) AS multi_region
    FROM accounts a
    LEFT JOIN judged j ON j.account_id = a.account_id
    GROUP BY a.account_id, a.partition
)
SELECT format('arn:{}:::{}', partition, account_id) AS resource,
       CASE WHEN qualifying IS NOT NULL THEN 'ok' WHEN unreadable IS NOT NULL THEN 'info' ELSE 'alarm' END AS status,
       format('Account {}', account_id) ||
       CASE WHEN qualifying IS NOT NULL THEN ' records S3 object reads in every bucket with ' || qualifying || '.'
            WHEN unreadable IS NOT NULL
                THEN ' may record S3 object reads with trail(s) whose selectors cannot be read from here: ' || unreadable || '.'
            WHEN stopped IS NOT NULL THEN ' would record S3 object reads with ' || stopped || ', but it is not logging.'
            WHEN multi_region > 0 THEN ' has no multi-region trail that records S3 object reads in every bucket.'
            ELSE ' has no multi-region trail, so no S3 object reads are recorded.' END AS reason,
       account_id, CAST(NULL AS VARCHAR) AS region, qualifying AS recording_trails
FROM per_account;
