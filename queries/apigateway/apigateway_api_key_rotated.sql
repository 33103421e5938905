-- id: apigateway_api_key_rotated
-- title: Enabled API keys are rotated
-- description: Alarms when an enabled API key was created (or last updated, when later) more than max_age_days
--   days ago (default 90): the longer a key lives the more places it leaks to. Disabled keys are skip.
-- severity: medium
-- resource_type: enabled API key
-- remediation: Create a new key, add it to the same usage plans, move the clients to it, then disable and delete the old key.
--   Console: API Gateway > API keys > Create API key; Usage plans > (plan) > Associated API keys > Add.
--   CLI: aws apigateway create-api-key --name NAME --enabled
--   CLI: aws apigateway create-usage-plan-key --usage-plan-id PLAN_ID --key-id NEW_KEY_ID --key-type API_KEY
--   CLI: aws apigateway update-api-key --api-key OLD_KEY_ID --patch-operations op=replace,path=/enabled,value=false
-- frameworks:
-- aliases:
-- parameters: max_age_days BIGINT = 90
WITH keys AS (
    SELECT *, greatest(created_date, coalesce(last_updated_date, created_date)) AS since,
           date_diff('day', greatest(created_date, coalesce(last_updated_date, created_date)), now()::TIMESTAMP) AS age_days
    FROM aws_api_gateway_api_key
)
SELECT arn AS resource,
       CASE WHEN NOT coalesce(enabled, false) THEN 'skip'
            WHEN since IS NULL THEN 'info'
            WHEN age_days > coalesce(getvariable('max_age_days'), 90) THEN 'alarm'
            ELSE 'ok' END AS status,
       format('API key {} ({})', name, id) ||
       CASE WHEN NOT coalesce(enabled, false) THEN ' is disabled.'
            WHEN since IS NULL THEN ' has no creation date.'
            ELSE ' was created or last updated ' || age_days || ' days ago, on ' || strftime(since, '%Y-%m-%d')
                 || CASE WHEN age_days > coalesce(getvariable('max_age_days'), 90)
                         THEN ', more than ' || coalesce(getvariable('max_age_days'), 90) || ' days.'
                         ELSE '.' END END AS reason,
       account_id, region, id AS api_key_id, age_days
FROM keys;
