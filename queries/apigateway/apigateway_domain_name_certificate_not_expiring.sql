-- id: apigateway_domain_name_certificate_not_expiring
-- title: Custom domain certificates are valid and not about to expire
-- description: Alarms when a custom domain's ACM certificate expires within days_before_expiry days (default 30)
--   or is not ISSUED: clients will then fail the TLS handshake. Certificates are matched by ARN in every region
--   read (edge domains use certificates in us-east-1); a certificate that cannot be found in ACM (another
--   account, or a region not read) makes the domain info.
-- severity: medium
-- resource_type: custom domain
-- remediation: Renew or replace the certificate in ACM (DNS validation renews automatically), then point the domain at the new certificate.
--   Console: AWS Certificate Manager > Certificates > (certificate) > renewal status; API Gateway > Custom domain names > (domain) > Configurations > Edit > ACM certificate.
--   CLI: aws acm describe-certificate --certificate-arn CERT_ARN
--   CLI: aws apigateway update-domain-name --domain-name DOMAIN --patch-operations op=replace,path=/regionalCertificateArn,value=NEW_CERT_ARN
-- frameworks:
-- aliases:
-- parameters: days_before_expiry BIGINT = 30
WITH domains AS (
    -- A domain listed by both APIs (they share one namespace) is judged once, from the REST side.
    SELECT * FROM (
        SELECT arn, account_id, region, domain_name,
               list_distinct([certificate_arn, regional_certificate_arn]) AS certificates, 1 AS source
        FROM aws_api_gateway_domain_name
        UNION ALL
        SELECT arn, account_id, region, domain_name, coalesce(certificate_arns, CAST([] AS VARCHAR[])), 2
        FROM aws_api_gatewayv2_domain_name
    )
    QUALIFY row_number() OVER (PARTITION BY arn ORDER BY source) = 1
),
certificates AS (
    SELECT d.arn, c.certificate_arn, d.certificate_arn AS wanted, c.status AS cert_status, c.not_after,
           date_diff('day', now()::TIMESTAMP, c.not_after) AS days_left
    FROM (SELECT arn, unnest(certificates) AS certificate_arn FROM domains) d
    LEFT JOIN (SELECT DISTINCT certificate_arn, status, not_after FROM aws_acm_certificate) c
           ON c.certificate_arn = d.certificate_arn
),
per_domain AS (
    SELECT arn,
           string_agg(wanted || CASE WHEN cert_status <> 'ISSUED' THEN ' is ' || cert_status
                                     WHEN not_after < now()::TIMESTAMP THEN ' expired on ' || strftime(not_after, '%Y-%m-%d')
                                     ELSE ' expires on ' || strftime(not_after, '%Y-%m-%d') || ' (in ' || days_left || ' days)' END, '; ')
               FILTER (WHERE certificate_arn IS NOT NULL AND (cert_status <> 'ISSUED'
                        OR not_after < now()::TIMESTAMP + to_days(CAST(coalesce(getvariable('days_before_expiry'), 30) AS INTEGER)))) AS bad,
           string_agg(wanted, ', ') FILTER (WHERE certificate_arn IS NULL) AS unknown,
           min(not_after) AS earliest
    FROM certificates
    GROUP BY arn
)
SELECT d.arn AS resource,
       CASE WHEN array_length(d.certificates) = 0 THEN 'skip'
            WHEN p.bad IS NOT NULL THEN 'alarm'
            WHEN p.unknown IS NOT NULL THEN 'info'
            ELSE 'ok' END AS status,
       format('Custom domain {}', d.domain_name) ||
       CASE WHEN array_length(d.certificates) = 0 THEN ' names no ACM certificate.'
            WHEN p.bad IS NOT NULL THEN ': certificate ' || p.bad || '.'
            WHEN p.unknown IS NOT NULL THEN ' uses certificate ' || p.unknown || ', which is not in the ACM certificates read.'
            ELSE ' uses an issued certificate valid until ' || strftime(p.earliest, '%Y-%m-%d') || '.' END AS reason,
       d.account_id, d.region, d.domain_name
FROM domains d
LEFT JOIN per_domain p ON p.arn = d.arn;
