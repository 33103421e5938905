-- id: apigateway_api_key_in_usage_plan
-- title: Enabled API keys belong to a usage plan
-- description: Alarms when an enabled API key is in no usage plan: it meters and throttles nothing, so it is most
--   likely a forgotten credential. Disabled keys are skip.
-- severity: low
-- resource_type: enabled API key
-- remediation: Add the key to the usage plan of its consumer, or disable and delete it.
--   Console: API Gateway > Usage plans > (plan) > Associated API keys > Add API key.
--   CLI: aws apigateway create-usage-plan-key --usage-plan-id PLAN_ID --key-id KEY_ID --key-type API_KEY
--   CLI: aws apigateway delete-api-key --api-key KEY_ID
-- frameworks:
-- aliases:
-- parameters:
WITH plans AS (
    SELECT k.account_id, k.region, k.id AS key_id, string_agg(DISTINCT coalesce(p.name, k.usage_plan_id), ', ') AS plan_names
    FROM aws_api_gateway_usage_plan_key k
    LEFT JOIN aws_api_gateway_usage_plan p ON p.id = k.usage_plan_id AND p.region = k.region AND p.account_id = k.account_id
    WHERE coalesce(k.type, 'API_KEY') = 'API_KEY'
    GROUP BY ALL
)
SELECT a.arn AS resource,
       CASE WHEN NOT coalesce(a.enabled, false) THEN 'skip' WHEN p.plan_names IS NULL THEN 'alarm' ELSE 'ok' END AS status,
       format('API key {} ({})', a.name, a.id) ||
       CASE WHEN NOT coalesce(a.enabled, false) THEN ' is disabled.'
            WHEN p.plan_names IS NULL THEN ' is enabled but in no usage plan.'
            ELSE ' is in usage plan ' || p.plan_names || '.' END AS reason,
       a.account_id, a.region, a.id AS api_key_id
FROM aws_api_gateway_api_key a
LEFT JOIN plans p ON p.key_id = a.id AND p.region = a.region AND p.account_id = a.account_id;
