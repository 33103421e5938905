-- id: apigateway_domain_name_tls_policy_current
-- title: Custom domains refuse TLS 1.0 and 1.1
-- description: Alarms when a REST, HTTP or WebSocket custom domain uses a security policy that matches none of the
--   allowed_security_policies patterns (default TLS_1_2 and every enhanced SecurityPolicy_* policy, that is every
--   policy except TLS_1_0). A domain without a policy uses AWS's default, TLS_1_0. A domain listed by both APIs is
--   judged once.
-- severity: medium
-- resource_type: REST and v2 custom domain
-- remediation: Switch the domain to TLS_1_2 or an enhanced SecurityPolicy_TLS13_* policy.
--   Console: API Gateway > Custom domain names > (domain) > Configurations > Edit > Security policy.
--   CLI (REST): aws apigateway update-domain-name --domain-name DOMAIN --patch-operations op=replace,path=/securityPolicy,value=TLS_1_2
--   CLI (v2): aws apigatewayv2 update-domain-name --domain-name DOMAIN --domain-name-configurations CertificateArn=CERT_ARN,EndpointType=REGIONAL,SecurityPolicy=TLS_1_2
-- frameworks: fsbp: APIGateway.11, config: apigateway-domain-name-tls-check, cloudsploit: customDomainTlsVersion, checkov: CKV_AWS_206
-- aliases:
-- parameters: allowed_security_policies VARCHAR[] = ['TLS_1_2', 'SecurityPolicy_*']
WITH params AS (
    SELECT coalesce(getvariable('allowed_security_policies'), ['TLS_1_2', 'SecurityPolicy_*']) AS allowed
),
domains AS (
    -- A domain listed by both APIs (they share one namespace) is judged once, from the REST side.
    SELECT * FROM (
        SELECT arn, account_id, region, domain_name, [coalesce(security_policy, 'TLS_1_0')] AS policies, 1 AS source
        FROM aws_api_gateway_domain_name
        UNION ALL
        SELECT arn, account_id, region, domain_name, coalesce(nullif(security_policies, []), ['TLS_1_0']), 2
        FROM aws_api_gatewayv2_domain_name
    )
    QUALIFY row_number() OVER (PARTITION BY arn ORDER BY source) = 1
),
judged AS (
    SELECT d.*, (SELECT string_agg(pol, ', ') FROM unnest(d.policies) AS u(pol)
                 WHERE NOT EXISTS (SELECT 1 FROM unnest(p.allowed) AS t(pattern) WHERE pol GLOB pattern)) AS disallowed
    FROM domains d CROSS JOIN params p
)
SELECT arn AS resource,
       CASE WHEN disallowed IS NULL THEN 'ok' ELSE 'alarm' END AS status,
       format('Custom domain {} uses security policy {}', domain_name, array_to_string(policies, ', ')) ||
       CASE WHEN disallowed IS NULL THEN ', which refuses TLS 1.0 and 1.1.'
            ELSE ', which is not allowed (' || disallowed || ' still accepts older TLS versions).' END AS reason,
       account_id, region, domain_name
FROM judged;
