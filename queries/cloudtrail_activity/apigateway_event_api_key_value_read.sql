-- id: apigateway_event_api_key_value_read
-- title: Nobody read API key values
-- description: Alarms once per successful GetApiKey call with includeValue true, or GetApiKeys call with
--   includeValues true, in the last window_days days (default 90): the caller saw the secret values of the keys,
--   which clients present to the API, and may have copied them. A true given as a string counts as well. Reads
--   aws_cloudtrail_event: the log files named with --cloudtrail-logs, else LookupEvents.
-- severity: medium
-- resource_type: CloudTrail event
-- remediation: Confirm with the caller why the values were read; if the read was not expected, rotate the keys it could see (a new key in the same usage plans, then disable the old one) and restrict apigateway:GET on /apikeys.
--   Console: API Gateway > API keys > Create API key; Usage plans > (plan) > Associated API keys > Add; then disable the old key.
--   CLI: aws apigateway create-api-key --name NAME --enabled && aws apigateway create-usage-plan-key --usage-plan-id PLAN_ID --key-id NEW_KEY_ID --key-type API_KEY
--   CLI: aws apigateway update-api-key --api-key OLD_KEY_ID --patch-operations op=replace,path=/enabled,value=false
-- frameworks:
-- aliases:
-- parameters: window_days BIGINT = 90
WITH events AS (
    SELECT *, coalesce(aws_region, region) AS event_region,
           format('arn:{}:apigateway:{}::',
                  CASE WHEN starts_with(coalesce(aws_region, region), 'cn-') THEN 'aws-cn'
                       WHEN starts_with(coalesce(aws_region, region), 'us-gov-') THEN 'aws-us-gov' ELSE 'aws' END,
                  coalesce(aws_region, region)) AS base,
           coalesce(user_arn, user_identity ->> 'invokedBy', user_identity ->> 'principalId', user_type, 'an unknown caller')
               AS principal
    FROM aws_cloudtrail_event
    -- Whole days from midnight UTC: every activity control then asks for the same window, which the check
    -- runner merges into one read of the log files or LookupEvents (now() would differ per control).
    WHERE event_time >= current_date - to_days(CAST(coalesce(getvariable('window_days'), 90) AS INTEGER))
      AND event_source = 'apigateway.amazonaws.com'
      AND event_name IN ('GetApiKey', 'GetApiKeys')
      AND error_code IS NULL
)
SELECT base || CASE WHEN event_name = 'GetApiKey' THEN '/apikeys/' || coalesce(request_parameters ->> 'apiKey', '')
                    ELSE '/apikeys' END AS resource,
       'alarm' AS status,
       CASE WHEN event_name = 'GetApiKey'
                THEN format('The value of API key {} was read', coalesce(request_parameters ->> 'apiKey', '?'))
            ELSE format('The values of the API keys of {} were read', event_region) END
       || format(' (includeValue{} true) by {} on {} from {}.', CASE WHEN event_name = 'GetApiKeys' THEN 's' ELSE '' END,
                 principal, strftime(event_time, '%Y-%m-%d %H:%M:%S UTC'),
                 coalesce(source_ip_address, 'an unknown address')) AS reason,
       account_id, event_region AS region, event_id, event_time, event_name, user_arn, source_ip_address, user_agent
FROM events
-- One literal JSON key per branch (not a key chosen by CASE): a JSON path other engines can read as well.
WHERE lower(CASE WHEN event_name = 'GetApiKey' THEN request_parameters ->> 'includeValue'
                 ELSE request_parameters ->> 'includeValues' END) = 'true';
