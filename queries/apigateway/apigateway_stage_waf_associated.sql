-- id: apigateway_stage_waf_associated
-- title: REST stages are protected by an AWS WAF web ACL
-- description: Alarms when a REST API stage has no AWS WAF web ACL (webAclArn). With the allowed_web_acl_arns
--   parameter set, a stage whose web ACL is not in that list also alarms (the Config rule's allow-list).
-- severity: medium
-- resource_type: REST stage
-- remediation: Associate a regional AWS WAF web ACL with the stage.
--   Console: AWS WAF > Web ACLs > (web ACL) > Associated AWS resources > Add AWS resources > API Gateway REST API stage.
--   CLI: aws wafv2 associate-web-acl --web-acl-arn WEB_ACL_ARN --resource-arn arn:aws:apigateway:REGION::/restapis/API_ID/stages/STAGE
-- frameworks: fsbp: APIGateway.4, config: api-gw-associated-with-waf
-- aliases: apigateway_restapi_waf_acl_attached, apigateway_stage_use_waf_web_acl
-- parameters: allowed_web_acl_arns VARCHAR[] = []
WITH params AS (
    SELECT coalesce(getvariable('allowed_web_acl_arns'), CAST([] AS VARCHAR[])) AS allowed
)
SELECT s.arn AS resource,
       CASE WHEN s.web_acl_arn IS NULL THEN 'alarm'
            WHEN array_length(p.allowed) > 0 AND NOT list_contains(p.allowed, s.web_acl_arn) THEN 'alarm'
            ELSE 'ok' END AS status,
       CASE WHEN s.web_acl_arn IS NULL
                THEN format('Stage {} of REST API {} ({}) has no AWS WAF web ACL.', s.name, a.name, s.rest_api_id)
            WHEN array_length(p.allowed) > 0 AND NOT list_contains(p.allowed, s.web_acl_arn)
                THEN format('Stage {} of REST API {} ({}) uses web ACL {}, which is not in the allowed list.', s.name,
                            a.name, s.rest_api_id, s.web_acl_arn)
            ELSE format('Stage {} of REST API {} ({}) is protected by web ACL {}.', s.name, a.name, s.rest_api_id,
                        s.web_acl_arn)
       END AS reason,
       s.account_id, s.region, s.rest_api_id AS api_id, s.name AS stage_name, s.web_acl_arn
FROM aws_api_gateway_stage s
JOIN aws_api_gateway_rest_api a ON a.api_id = s.rest_api_id AND a.region = s.region AND a.account_id = s.account_id
CROSS JOIN params p;
