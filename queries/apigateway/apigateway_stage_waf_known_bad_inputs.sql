-- id: apigateway_stage_waf_known_bad_inputs
-- title: Stage web ACLs block known bad inputs
-- description: For REST stages with an AWS WAF web ACL, alarms when the web ACL lacks the AWS managed rule group
--   AWSManagedRulesKnownBadInputsRuleSet (Log4Shell, Java deserialization and other exploit payloads), or runs it in
--   count mode only (OverrideAction Count), which blocks nothing. Stages without a web ACL are skip
--   (apigateway_stage_waf_associated judges them); a web ACL this account cannot read is info.
-- severity: low
-- resource_type: REST stage with a web ACL
-- remediation: Add the AWS managed Known Bad Inputs rule group to the stage's web ACL, in block mode.
--   Console: AWS WAF > Web ACLs > (web ACL) > Rules > Add rules > Add managed rule groups > AWS managed rule groups > Known bad inputs.
--   CLI: aws wafv2 update-web-acl --scope REGIONAL --id ID --name NAME --lock-token TOKEN --default-action Allow={} --visibility-config ... --rules file://rules-with-AWSManagedRulesKnownBadInputsRuleSet.json
-- frameworks: checkov: CKV_AWS_394
-- aliases:
-- parameters:
WITH rules AS (
    SELECT w.arn, w.name,
           json_extract_string(r.value, '$.Statement.ManagedRuleGroupStatement.VendorName') = 'AWS'
               AND json_extract_string(r.value, '$.Statement.ManagedRuleGroupStatement.Name')
                   = 'AWSManagedRulesKnownBadInputsRuleSet' AS is_group,
           json_extract(r.value, '$.OverrideAction.Count') IS NOT NULL AS count_only
    FROM aws_wafv2_web_acl w
    LEFT JOIN json_each(w.rules) r ON true
),
acls AS (
    SELECT arn, any_value(name) AS name, coalesce(bool_or(is_group), false) AS has_group,
           coalesce(bool_or(is_group AND NOT count_only), false) AS blocks
    FROM rules
    GROUP BY arn
)
SELECT s.arn AS resource,
       CASE WHEN s.web_acl_arn IS NULL THEN 'skip'
            WHEN w.arn IS NULL THEN 'info'
            WHEN coalesce(w.blocks, false) THEN 'ok'
            ELSE 'alarm' END AS status,
       format('Stage {} of REST API {} ({})', s.name, a.name, s.rest_api_id) || CASE
           WHEN s.web_acl_arn IS NULL THEN ' has no web ACL, so there is no rule set to judge.'
           WHEN w.arn IS NULL THEN ' uses web ACL ' || s.web_acl_arn || ', which this account cannot read.'
           WHEN coalesce(w.blocks, false) THEN ' uses web ACL ' || w.name || ', which blocks known bad inputs.'
           WHEN coalesce(w.has_group, false) THEN ' uses web ACL ' || w.name || ', which runs the Known Bad Inputs rule group in count mode only.'
           ELSE ' uses web ACL ' || w.name || ', which lacks the AWS managed Known Bad Inputs rule group.' END AS reason,
       s.account_id, s.region, s.rest_api_id AS api_id, s.name AS stage_name, s.web_acl_arn
FROM aws_api_gateway_stage s
JOIN aws_api_gateway_rest_api a ON a.api_id = s.rest_api_id AND a.region = s.region AND a.account_id = s.account_id
LEFT JOIN acls w ON w.arn = s.web_acl_arn;
