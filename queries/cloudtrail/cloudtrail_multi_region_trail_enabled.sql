-- id: cloudtrail_multi_region_trail_enabled
-- title: A multi-region trail records every management event
-- description: Alarms per account when no multi-region trail is logging and recording both read and write
--   management events with no excluded event source. Classic and advanced event selectors both count (the
--   Steampipe mod ignores advanced ones), and a trail that never had selectors set records all management
--   events. A multi-region trail is judged once, from its home region's copy. When the only candidates are
--   organization trails owned by another account, whose status and selectors cannot be read from here, the
--   account is info.
-- severity: high
-- resource_type: account
-- remediation: Create (or fix) one multi-region trail that logs all read and write management events, and start it.
--   Console: CloudTrail > Trails > Create trail (applies to all regions by default) > Management events: Read and Write, no exclusions.
--   CLI: aws cloudtrail create-trail --name account-trail --s3-bucket-name BUCKET --is-multi-region-trail
--   CLI: aws cloudtrail put-event-selectors --trail-name account-trail --event-selectors '[{"ReadWriteType":"All","IncludeManagementEvents":true}]'
--   CLI: aws cloudtrail start-logging --name account-trail
-- frameworks: fsbp: CloudTrail.1, cis_v5: 3.1, config: multi-region-cloudtrail-enabled
-- aliases: cloudtrail_multi_region_enabled, cloudtrail_multi_region_enabled_logging_management_events,
--   cloudtrail_multi_region_read_write_enabled
-- parameters:
WITH accounts AS (
    -- Every account and region whose trails were listed, so that an account with no trail at all is judged too.
    SELECT DISTINCT account_id, region
    FROM apigw_sql_fetch_log
    WHERE service = 'cloudtrail' AND operation = 'DescribeTrails' AND error_code IS NULL
),
trails AS (
    -- A multi-region trail appears in every region (shadow copies): keep one row per trail, the home copy when
    -- its region was read. The status and selectors of every copy are read in the home region.
    SELECT *, split_part(arn, ':', 5) <> account_id AS other_owner
    FROM aws_cloudtrail_trail
    WHERE is_multi_region_trail
    QUALIFY row_number() OVER (PARTITION BY account_id, arn ORDER BY is_shadow, region) = 1
),
classic AS (
    SELECT t.arn,
           coalesce(CAST(s.value ->> 'IncludeManagementEvents' AS BOOLEAN), true) AS management,
           coalesce(s.value ->> 'ReadWriteType', 'All') AS read_write,
           nullif(array_to_string(coalesce(CAST(s.value -> 'ExcludeManagementEventSources' AS VARCHAR[]), []), ', '), '')
               AS excluded
    FROM trails t, json_each(t.event_selectors) s
),
advanced_fields AS (
    SELECT t.arn, a.key AS selector, f.value ->> 'Field' AS field,
           coalesce(CAST(f.value -> 'Equals' AS VARCHAR[]), []) AS equals,
           coalesce(CAST(f.value -> 'NotEquals' AS VARCHAR[]), []) AS not_equals
    FROM trails t, json_each(t.advanced_event_selectors) a, json_each(a.value -> 'FieldSelectors') f
),
advanced AS (
    -- One row per advanced selector that picks management events; a readOnly field limits it to reads or writes,
    -- any other field (eventSource, eventName...) narrows it.
    SELECT arn,
           NOT bool_or(field = 'readOnly')
               OR bool_or(field = 'readOnly' AND (list_contains(equals, 'true') OR list_contains(not_equals, 'false'))) AS reads,
           NOT bool_or(field = 'readOnly')
               OR bool_or(field = 'readOnly' AND (list_contains(equals, 'false') OR list_contains(not_equals, 'true'))) AS writes,
           nullif(string_agg(CASE WHEN field NOT IN ('eventCategory', 'readOnly')
                                  THEN field || ' ' || array_to_string(equals || not_equals, '/') END, ', '), '') AS excluded
    FROM advanced_fields
    GROUP BY arn, selector
    HAVING bool_or(field = 'eventCategory' AND list_contains(equals, 'Management'))
),
selectors AS (
    SELECT arn, management AND read_write IN ('All', 'ReadOnly') AS reads,
           management AND read_write IN ('All', 'WriteOnly') AS writes, CASE WHEN management THEN excluded END AS excluded
    FROM classic
    UNION ALL
    SELECT arn, reads, writes, excluded FROM advanced
),
coverage AS (
    SELECT t.account_id, t.arn, t.name, t.home_region, t.other_owner, t.status_unavailable_reason, t.is_logging,
           coalesce(bool_or(s.reads AND s.excluded IS NULL), false) AS reads,
           coalesce(bool_or(s.writes AND s.excluded IS NULL), false) AS writes,
           string_agg(DISTINCT s.excluded, '; ') AS excluded,
           -- A trail whose selectors were never set, or read back empty, records all management events.
           coalesce(json_array_length(t.event_selectors), 0) = 0
               AND coalesce(json_array_length(t.advanced_event_selectors), 0) = 0 AS no_selectors
    FROM trails t
    LEFT JOIN selectors s ON s.arn = t.arn
    GROUP BY ALL
),
judged AS (
    SELECT *,
           status_unavailable_reason IS NULL AND coalesce(is_logging, false)
               AND (no_selectors OR (reads AND writes)) AS qualifies,
           format('{} ({})', name, home_region) ||
           CASE WHEN status_unavailable_reason IS NOT NULL THEN ': its status cannot be read here (' || status_unavailable_reason || ')'
                WHEN NOT coalesce(is_logging, false) THEN ': not logging'
                WHEN no_selectors OR (reads AND writes) THEN ': logging all management events'
                WHEN excluded IS NOT NULL THEN ': excludes management events (' || excluded || ')'
                WHEN reads THEN ': records read management events only'
                WHEN writes THEN ': records write management events only'
                ELSE ': records no management events' END AS verdict
    FROM coverage
),
per_account AS (
    SELECT a.account_id,
           any_value(CASE WHEN starts_with(a.region, 'cn-') THEN 'aws-cn'
                          WHEN starts_with(a.region, 'us-gov-') THEN 'aws-us-gov' ELSE 'aws' END) AS partition,
           (SELECT string_agg(j.name, ', ' ORDER BY j.name) FROM judged j
            WHERE j.account_id = a.account_id AND j.qualifies) AS qualifying,
           (SELECT string_agg(j.verdict, '; ' ORDER BY j.name) FROM judged j
            WHERE j.account_id = a.account_id AND NOT j.qualifies AND j.status_unavailable_reason IS NULL) AS failing,
           (SELECT string_agg(j.verdict, '; ' ORDER BY j.name) FROM judged j
            WHERE j.account_id = a.account_id AND j.status_unavailable_reason IS NOT NULL) AS unreadable
    FROM (SELECT DISTINCT account_id, region FROM accounts) a
    GROUP BY a.account_id
)
SELECT format('arn:{}:::{}', partition, account_id) AS resource,
       CASE WHEN qualifying IS NOT NULL THEN 'ok' WHEN unreadable IS NOT NULL THEN 'info' ELSE 'alarm' END AS status,
       format('Account {}', account_id) ||
       CASE WHEN qualifying IS NOT NULL
                THEN ' has a multi-region trail that logs all read and write management events: ' || qualifying || '.'
            WHEN unreadable IS NOT NULL
                THEN ' may be covered by a multi-region trail of another account, which can only be judged there: '
                     || unreadable || coalesce('; its own multi-region trails fall short: ' || failing, '') || '.'
            WHEN failing IS NOT NULL
                THEN ' has no multi-region trail that logs all read and write management events: ' || failing || '.'
            ELSE ' has no multi-region trail.' END AS reason,
       account_id, CAST(NULL AS VARCHAR) AS region, qualifying AS qualifying_trails
FROM per_account;
