-- id: cloudtrail_event_logging_tampered
-- title: Nobody stopped, deleted or narrowed CloudTrail logging
-- description: Alarms once per successful StopLogging, DeleteTrail, UpdateTrail, PutEventSelectors,
--   PutInsightSelectors, DeleteEventDataStore or StopEventDataStoreIngestion call in the last window_days days
--   (default 90): each can blind the audit trail, and attackers make them first. Failed calls (AccessDenied...) are
--   left to apigateway_event_access_denied_burst. The resource is the trail or event data store the call named
--   (its ARN, built from the name when the call used a name). Reads aws_cloudtrail_event: the log files named with
--   --cloudtrail-logs, else LookupEvents.
-- severity: high
-- resource_type: CloudTrail event
-- remediation: Confirm with the caller that the change was intended; if not, restore logging, rotate the caller's credentials and review what it did while logging was off.
--   Console: CloudTrail > Trails > (trail) > Start logging; CloudTrail > Event history, filter on the caller's user name or access key.
--   CLI: aws cloudtrail start-logging --name TRAIL_NAME
--   CLI: aws cloudtrail lookup-events --lookup-attributes AttributeKey=Username,AttributeValue=USER_NAME --start-time START
-- frameworks:
-- aliases:
-- parameters: window_days BIGINT = 90
WITH events AS (
    SELECT *, coalesce(aws_region, region) AS event_region,
           CASE WHEN starts_with(coalesce(aws_region, region), 'cn-') THEN 'aws-cn'
                WHEN starts_with(coalesce(aws_region, region), 'us-gov-') THEN 'aws-us-gov' ELSE 'aws' END AS partition,
           coalesce(user_arn, user_identity ->> 'invokedBy', user_identity ->> 'principalId', user_type, 'an unknown caller')
               AS principal,
           coalesce(request_parameters ->> 'name', request_parameters ->> 'trailName') AS trail,
           request_parameters ->> 'eventDataStore' AS event_data_store
    FROM aws_cloudtrail_event
    -- Whole days from midnight UTC: every activity control then asks for the same window, which the check
    -- runner merges into one read of the log files or LookupEvents (now() would differ per control).
    WHERE event_time >= current_date - to_days(CAST(coalesce(getvariable('window_days'), 90) AS INTEGER))
      AND event_source = 'cloudtrail.amazonaws.com'
      AND event_name IN ('StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors', 'PutInsightSelectors',
                         'DeleteEventDataStore', 'StopEventDataStoreIngestion')
      AND error_code IS NULL
),
described AS (
    SELECT *,
           CASE WHEN event_data_store IS NOT NULL AND starts_with(event_data_store, 'arn:') THEN event_data_store
                WHEN event_data_store IS NOT NULL
                    THEN format('arn:{}:cloudtrail:{}:{}:eventdatastore/{}', partition, event_region, account_id,
                                event_data_store)
                WHEN starts_with(trail, 'arn:') THEN trail
                WHEN trail IS NOT NULL
                    THEN format('arn:{}:cloudtrail:{}:{}:trail/{}', partition, event_region, account_id, trail)
                ELSE format('arn:{}:::{}', partition, account_id) END AS target,
           coalesce(split_part(coalesce(event_data_store, trail), '/', -1), 'unknown') AS target_name,
           CASE WHEN event_name = 'UpdateTrail'
                THEN (SELECT string_agg(k.key, ', ' ORDER BY k.key) FROM json_each(request_parameters) k
                      WHERE k.key <> 'name') END AS changed
    FROM events
)
SELECT target AS resource, 'alarm' AS status,
       CASE event_name
           WHEN 'StopLogging' THEN format('Logging of trail {} was stopped', target_name)
           WHEN 'DeleteTrail' THEN format('Trail {} was deleted', target_name)
           WHEN 'UpdateTrail' THEN format('Trail {} was changed{}', target_name, coalesce(' (' || changed || ')', ''))
           WHEN 'PutEventSelectors' THEN format('The event selectors of trail {} were replaced', target_name)
           WHEN 'PutInsightSelectors' THEN format('The Insights selectors of trail {} were replaced', target_name)
           WHEN 'DeleteEventDataStore' THEN format('Event data store {} was deleted', target_name)
           ELSE format('Ingestion into event data store {} was stopped', target_name) END
       || format(' ({}) by {} on {} from {}.', event_name, principal, strftime(event_time, '%Y-%m-%d %H:%M:%S UTC'),
                 coalesce(source_ip_address, 'an unknown address')) AS reason,
       account_id, event_region AS region, event_id, event_time, event_name, user_arn, source_ip_address, user_agent
FROM described;
