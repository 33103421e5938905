-- id: apigateway_api_custom_domain_bypass
-- title: APIs behind a custom domain cannot be reached around it
-- description: For REST, HTTP and WebSocket APIs mapped from a custom domain (base path or API mappings), alarms
--   when the default execute-api endpoint is still enabled: clients can then bypass the domain's TLS policy,
--   mutual TLS and any WAF or edge controls in front of it. APIs no custom domain maps are skip.
-- severity: high
-- resource_type: REST and v2 API mapped from a custom domain
-- remediation: Disable the default execute-api endpoint of every API served through a custom domain (then redeploy REST APIs).
--   Console: API Gateway > APIs > (API) > API settings > Edit > Default endpoint: Inactive.
--   CLI (REST): aws apigateway update-rest-api --rest-api-id API_ID --patch-operations op=replace,path=/disableExecuteApiEndpoint,value=true
--   CLI (v2): aws apigatewayv2 update-api --api-id API_ID --disable-execute-api-endpoint
-- frameworks:
-- aliases:
-- parameters:
WITH mappings AS (
    SELECT account_id, region, rest_api_id AS api_id, domain_name FROM aws_api_gateway_base_path_mapping
    UNION
    SELECT account_id, region, api_id, domain_name FROM aws_api_gatewayv2_api_mapping
),
mapped AS (
    SELECT account_id, region, api_id, string_agg(DISTINCT domain_name, ', ' ORDER BY domain_name) AS domains
    FROM mappings
    GROUP BY ALL
),
apis AS (
    SELECT arn, account_id, region, api_id, format('REST API {} ({})', name, api_id) AS label,
           coalesce(disable_execute_api_endpoint, false) AS disabled
    FROM aws_api_gateway_rest_api
    UNION ALL
    SELECT arn, account_id, region, api_id,
           format('{} API {} ({})', CASE protocol_type WHEN 'HTTP' THEN 'HTTP' ELSE 'WebSocket' END, name, api_id),
           coalesce(disable_execute_api_endpoint, false)
    FROM aws_api_gatewayv2_api
)
SELECT a.arn AS resource,
       CASE WHEN m.domains IS NULL THEN 'skip' WHEN a.disabled THEN 'ok' ELSE 'alarm' END AS status,
       a.label || CASE
           WHEN m.domains IS NULL THEN ' is not mapped from a custom domain.'
           WHEN a.disabled THEN ' is served by custom domain ' || m.domains || ' and only there: its default endpoint is disabled.'
           ELSE ' is served by custom domain ' || m.domains || ', but its default execute-api endpoint is still enabled, '
                || 'so clients can bypass the domain''s TLS policy, mutual TLS and WAF.' END AS reason,
       a.account_id, a.region, a.api_id, m.domains AS domain_names
FROM apis a
LEFT JOIN mapped m ON m.api_id = a.api_id AND m.region = a.region AND m.account_id = a.account_id;
