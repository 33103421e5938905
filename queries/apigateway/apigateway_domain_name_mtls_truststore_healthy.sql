-- id: apigateway_domain_name_mtls_truststore_healthy
-- title: Mutual TLS truststores have no warnings
-- description: For custom domains with mutual TLS, alarms when API Gateway reports truststore warnings (expired or
--   invalid certificates in the truststore): clients whose certificate chains to them may be rejected or, worse,
--   a revoked CA may go unnoticed. Domains without mutual TLS are skip.
-- severity: medium
-- resource_type: domain with mutual TLS
-- remediation: Replace the certificates the warnings name in the truststore object, then point the domain at the new version.
--   Console: API Gateway > Custom domain names > (domain) > Configurations > Edit > Mutual TLS > Truststore version.
--   CLI: aws apigateway update-domain-name --domain-name DOMAIN --patch-operations op=replace,path=/mutualTlsAuthentication/truststoreVersion,value=VERSION
-- frameworks:
-- aliases:
-- parameters:
WITH domains AS (
    -- A domain listed by both APIs (they share one namespace) is judged once, from the REST side.
    SELECT * FROM (
        SELECT arn, account_id, region, domain_name, truststore_uri, truststore_warnings, 1 AS source
        FROM aws_api_gateway_domain_name
        UNION ALL
        SELECT arn, account_id, region, domain_name, truststore_uri, truststore_warnings, 2
        FROM aws_api_gatewayv2_domain_name
    )
    QUALIFY row_number() OVER (PARTITION BY arn ORDER BY source) = 1
),
judged AS (
    SELECT *, coalesce(json_array_length(truststore_warnings), 0) AS warnings,
           (SELECT string_agg(w ->> '$', '; ') FROM unnest(from_json(coalesce(truststore_warnings, '[]'), '["JSON"]')) AS t(w)) AS warning_text
    FROM domains
)
SELECT arn AS resource,
       CASE WHEN truststore_uri IS NULL THEN 'skip' WHEN warnings > 0 THEN 'alarm' ELSE 'ok' END AS status,
       format('Custom domain {}', domain_name) ||
       CASE WHEN truststore_uri IS NULL THEN ' does not use mutual TLS.'
            WHEN warnings > 0 THEN ' has mutual TLS truststore warnings: ' || rtrim(warning_text, '.') || '.'
            ELSE ' has a mutual TLS truststore (' || truststore_uri || ') without warnings.' END AS reason,
       account_id, region, domain_name
FROM judged;
