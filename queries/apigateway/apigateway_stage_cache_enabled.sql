-- id: apigateway_stage_cache_enabled
-- title: REST stages cache responses, encrypted
-- description: Alarms when a REST API stage has no cache cluster, or when the stage default (*/*) or a method
--   override does not both cache and encrypt the cache, as the AWS Config rule api-gw-cache-enabled-and-encrypted
--   requires. A stage with no method settings does not cache by default.
-- severity: low
-- resource_type: REST stage
-- remediation: Enable the stage cache cluster, then caching with encryption for every method.
--   Console: API Gateway > APIs > (API) > Stages > (stage) > Stage details > Edit > Provision API cache, Encrypt cache data; then method overrides.
--   CLI: aws apigateway update-stage --rest-api-id API_ID --stage-name STAGE --patch-operations op=replace,path=/cacheClusterEnabled,value=true op=replace,path=/cacheClusterSize,value=0.5 op=replace,path=/*/*/caching/enabled,value=true op=replace,path=/*/*/caching/dataEncrypted,value=true
-- frameworks: config: api-gw-cache-enabled-and-encrypted, cloudsploit: apigatewayResponseCaching
-- aliases:
-- parameters:
WITH effective AS (
    SELECT m.account_id, m.region, m.rest_api_id, m.stage_name, m.is_default,
           CASE WHEN m.is_default THEN 'the stage default (*/*)' ELSE m.http_method || ' ' || m.resource_path END AS method,
           coalesce(m.caching_enabled, d.caching_enabled, false) AND coalesce(m.cache_data_encrypted, d.cache_data_encrypted, false) AS cached_encrypted
    FROM aws_api_gateway_method_setting m
    LEFT JOIN aws_api_gateway_method_setting d
           ON d.is_default AND NOT m.is_default AND d.rest_api_id = m.rest_api_id AND d.stage_name = m.stage_name
          AND d.region = m.region AND d.account_id = m.account_id
),
per_stage AS (
    SELECT account_id, region, rest_api_id, stage_name, bool_or(is_default) AS has_default,
           string_agg(method, ', ' ORDER BY method) FILTER (WHERE NOT cached_encrypted) AS lacking
    FROM effective
    GROUP BY ALL
),
judged AS (
    SELECT s.*, a.name AS api_name, coalesce(p.has_default, false) AS has_default, p.lacking
    FROM aws_api_gateway_stage s
    JOIN aws_api_gateway_rest_api a ON a.api_id = s.rest_api_id AND a.region = s.region AND a.account_id = s.account_id
    LEFT JOIN per_stage p ON p.rest_api_id = s.rest_api_id AND p.stage_name = s.name AND p.region = s.region
                         AND p.account_id = s.account_id
)
SELECT arn AS resource,
       CASE WHEN cache_cluster_enabled AND has_default AND lacking IS NULL THEN 'ok' ELSE 'alarm' END AS status,
       format('Stage {} of REST API {} ({})', name, api_name, rest_api_id) ||
       CASE WHEN NOT cache_cluster_enabled THEN ' has no cache cluster.'
            WHEN NOT has_default THEN ' has a cache cluster but no method setting that turns caching on.'
            WHEN lacking IS NOT NULL THEN ' has a cache cluster, but these do not cache with encryption: ' || lacking || '.'
            ELSE ' caches every method with encryption.' END AS reason,
       account_id, region, rest_api_id AS api_id, name AS stage_name
FROM judged;
