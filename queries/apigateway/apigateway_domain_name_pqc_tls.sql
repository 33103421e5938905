-- id: apigateway_domain_name_pqc_tls
-- title: Custom domains offer post-quantum TLS key exchange
-- description: Alarms when a custom domain's security policy is not a post-quantum one (a *_PQ_* enhanced policy,
--   such as SecurityPolicy_TLS13_1_2_PQ_2025_09): traffic recorded today could be decrypted later. HTTP and
--   WebSocket domains support TLS_1_2 only and therefore alarm until AWS offers them a PQ policy.
-- severity: low
-- resource_type: custom domain
-- remediation: Move the domain to a post-quantum enhanced security policy.
--   Console: API Gateway > Custom domain names > (domain) > Configurations > Edit > Security policy: SecurityPolicy_TLS13_1_2_PQ_2025_09.
--   CLI: aws apigateway update-domain-name --domain-name DOMAIN --patch-operations op=replace,path=/securityPolicy,value=SecurityPolicy_TLS13_1_2_PQ_2025_09
-- frameworks:
-- aliases: apigateway_domain_name_pqc_tls_enabled
-- parameters:
WITH domains AS (
    -- A domain listed by both APIs (they share one namespace) is judged once, from the REST side.
    SELECT * FROM (
        SELECT arn, account_id, region, domain_name, coalesce(security_policy, 'TLS_1_0') AS policy, 1 AS source
        FROM aws_api_gateway_domain_name
        UNION ALL
        SELECT arn, account_id, region, domain_name, coalesce(nullif(array_to_string(security_policies, ', '), ''), 'TLS_1_0'), 2
        FROM aws_api_gatewayv2_domain_name
    )
    QUALIFY row_number() OVER (PARTITION BY arn ORDER BY source) = 1
)
SELECT arn AS resource,
       CASE WHEN contains(policy, '_PQ_') THEN 'ok' ELSE 'alarm' END AS status,
       format('Custom domain {} uses security policy {}, ', domain_name, policy) ||
       CASE WHEN contains(policy, '_PQ_') THEN 'which offers post-quantum key exchange.'
            ELSE 'which offers no post-quantum key exchange.' END AS reason,
       account_id, region, domain_name
FROM domains;
