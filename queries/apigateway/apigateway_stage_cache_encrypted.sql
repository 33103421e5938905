-- id: apigateway_stage_cache_encrypted
-- title: REST stage caches are encrypted at rest
-- description: Judges the methods of a REST stage that have caching enabled (the stage default */* and each
--   override): each must have cacheDataEncrypted true. A stage where no method caches is skip, not alarm
--   (Steampipe alarms there; AWS Security Hub judges only cached data).
-- severity: medium
-- resource_type: REST stage
-- remediation: Turn on cache encryption for every method that caches.
--   Console: API Gateway > APIs > (API) > Stages > (stage) > Stage details > Edit > Cache settings > Encrypt cache data; check each method override too.
--   CLI: aws apigateway update-stage --rest-api-id API_ID --stage-name STAGE --patch-operations op=replace,path=/*/*/caching/dataEncrypted,value=true
-- frameworks: fsbp: APIGateway.5
-- aliases: apigateway_restapi_cache_encrypted, apigateway_stage_cache_encryption_at_rest_enabled
-- parameters:
WITH effective AS (
    SELECT m.account_id, m.region, m.rest_api_id, m.stage_name,
           CASE WHEN m.is_default THEN 'the stage default (*/*)' ELSE m.http_method || ' ' || m.resource_path END AS method,
           coalesce(m.caching_enabled, d.caching_enabled, false) AS caching,
           coalesce(m.cache_data_encrypted, d.cache_data_encrypted, false) AS encrypted
    FROM aws_api_gateway_method_setting m
    LEFT JOIN aws_api_gateway_method_setting d
           ON d.is_default AND NOT m.is_default AND d.rest_api_id = m.rest_api_id AND d.stage_name = m.stage_name
          AND d.region = m.region AND d.account_id = m.account_id
),
per_stage AS (
    SELECT account_id, region, rest_api_id, stage_name,
           count(*) FILTER (WHERE caching) AS caching_methods,
           string_agg(method, ', ' ORDER BY method) FILTER (WHERE caching AND NOT encrypted) AS unencrypted
    FROM effective
    GROUP BY ALL
)
SELECT s.arn AS resource,
       CASE WHEN coalesce(p.caching_methods, 0) = 0 THEN 'skip'
            WHEN p.unencrypted IS NOT NULL THEN 'alarm'
            ELSE 'ok' END AS status,
       format('Stage {} of REST API {} ({})', s.name, a.name, s.rest_api_id) ||
       CASE WHEN coalesce(p.caching_methods, 0) = 0 THEN ' caches no method, so there is no cache to encrypt.'
            WHEN p.unencrypted IS NOT NULL THEN ' caches without encryption for: ' || p.unencrypted || '.'
            ELSE ' encrypts the cache of every method that caches.' END AS reason,
       s.account_id, s.region, s.rest_api_id AS api_id, s.name AS stage_name
FROM aws_api_gateway_stage s
JOIN aws_api_gateway_rest_api a ON a.api_id = s.rest_api_id AND a.region = s.region AND a.account_id = s.account_id
LEFT JOIN per_stage p ON p.rest_api_id = s.rest_api_id AND p.stage_name = s.name AND p.region = s.region
                     AND p.account_id = s.account_id;
