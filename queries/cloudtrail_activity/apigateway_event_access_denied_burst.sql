-- id: apigateway_event_access_denied_burst
-- title: No principal is repeatedly denied on API Gateway
-- description: Alarms once per burst in the last window_days days (default 90): one principal received threshold
--   (default 10) or more AccessDenied errors on API Gateway calls within one hour (errorCode AccessDenied* or
--   *UnauthorizedOperation, the CIS pattern), in any region of the account. Stolen or misused credentials probing
--   what they may do look like this. Overlapping hours of one principal make one burst; the row names its first
--   event, and the resource is the principal. Reads aws_cloudtrail_event: the log files named with
--   --cloudtrail-logs, else LookupEvents.
-- severity: medium
-- resource_type: CloudTrail event
-- remediation: Find out who holds the principal's credentials and what they tried; if it was not a misconfigured tool, disable the credentials.
--   Console: CloudTrail > Event history, filter on the user name or access key of the principal; IAM > Users or Roles > (principal) > Security credentials.
--   CLI: aws cloudtrail lookup-events --lookup-attributes AttributeKey=AccessKeyId,AttributeValue=ACCESS_KEY_ID --start-time START
--   CLI: aws iam update-access-key --user-name USER --access-key-id ACCESS_KEY_ID --status Inactive
-- frameworks:
-- aliases:
-- parameters: window_days BIGINT = 90; threshold BIGINT = 10
WITH denied AS (
    SELECT *, coalesce(user_arn, user_identity ->> 'principalId', access_key_id, source_ip_address, 'unknown') AS principal
    FROM aws_cloudtrail_event
    -- Whole days from midnight UTC: every activity control then asks for the same window, which the check
    -- runner merges into one read of the log files or LookupEvents (now() would differ per control).
    WHERE event_time >= current_date - to_days(CAST(coalesce(getvariable('window_days'), 90) AS INTEGER))
      AND event_source = 'apigateway.amazonaws.com'
      AND (error_code LIKE 'AccessDenied%' OR error_code LIKE '%UnauthorizedOperation')
),
counted AS (
    -- How many denials the principal received in the hour that starts with each of them.
    SELECT *, count(*) OVER (PARTITION BY account_id, principal ORDER BY event_time
                             RANGE BETWEEN CURRENT ROW AND INTERVAL 1 HOUR FOLLOWING) AS in_hour
    FROM denied
),
starts AS (
    -- The denials that open an hour with at least threshold denials; starts less than an hour apart are one burst.
    SELECT *, CASE WHEN lag(event_time) OVER (PARTITION BY account_id, principal ORDER BY event_time, event_id)
                        >= event_time - INTERVAL 1 HOUR THEN 0 ELSE 1 END AS new_burst
    FROM counted
    WHERE in_hour >= coalesce(getvariable('threshold'), 10)
),
bursts AS (
    SELECT *, sum(new_burst) OVER (PARTITION BY account_id, principal ORDER BY event_time, event_id) AS burst
    FROM starts
),
spans AS (
    SELECT account_id, principal, burst, min(event_time) AS first_time, max(event_time) + INTERVAL 1 HOUR AS end_time,
           arg_min(event_id, event_time) AS first_event
    FROM bursts
    GROUP BY ALL
),
summary AS (
    SELECT s.account_id, s.principal, s.first_event, s.first_time,
           count(*) AS denials, max(d.event_time) AS last_time,
           string_agg(DISTINCT d.event_name, ', ' ORDER BY d.event_name) AS operations,
           string_agg(DISTINCT d.error_code, ', ' ORDER BY d.error_code) AS error_codes,
           string_agg(DISTINCT coalesce(d.aws_region, d.region), ', ' ORDER BY coalesce(d.aws_region, d.region)) AS regions
    FROM spans s
    JOIN denied d ON d.account_id = s.account_id AND d.principal = s.principal
                 AND d.event_time >= s.first_time AND d.event_time <= s.end_time
    GROUP BY ALL
)
SELECT CASE WHEN starts_with(d.principal, 'arn:') THEN d.principal
            ELSE format('arn:{}:::{}', CASE WHEN starts_with(coalesce(d.aws_region, d.region), 'cn-') THEN 'aws-cn'
                                            WHEN starts_with(coalesce(d.aws_region, d.region), 'us-gov-') THEN 'aws-us-gov'
                                            ELSE 'aws' END, d.account_id) END AS resource,
       'alarm' AS status,
       format('Principal {} was denied {} API Gateway calls between {} and {} ({}; {}) in {}, from {}.', d.principal,
              s.denials, strftime(s.first_time, '%Y-%m-%d %H:%M:%S'), strftime(s.last_time, '%H:%M:%S UTC'),
              s.error_codes, s.operations, s.regions, coalesce(d.source_ip_address, 'an unknown address')) AS reason,
       d.account_id, coalesce(d.aws_region, d.region) AS region, d.event_id, d.event_time, s.operations AS event_name,
       d.user_arn, d.source_ip_address, d.user_agent, s.denials
FROM summary s
JOIN denied d ON d.event_id = s.first_event AND d.account_id = s.account_id;
