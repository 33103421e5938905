-- id: apigateway_stage_variables_no_secrets
-- title: Stage variables hold no secrets
-- description: Alarms when a REST, HTTP or WebSocket stage variable looks like a secret: an AWS access key id,
--   a private key block, a JSON Web Token, or a variable named like a password, token, secret, API key or
--   credential whose value has high entropy (min_secret_entropy bits per character, at least 8 characters).
--   Stage variables are readable by anyone who can read the API's configuration; the reason names the variable,
--   never its value.
-- severity: high
-- resource_type: REST and v2 stage
-- remediation: Move the secret to AWS Secrets Manager or SSM Parameter Store, read it in the backend, rotate it, and delete the stage variable.
--   Console: API Gateway > APIs > (API) > Stages > (stage) > Stage variables > Edit > remove the variable.
--   CLI (REST): aws apigateway update-stage --rest-api-id API_ID --stage-name STAGE --patch-operations op=remove,path=/variables/NAME
--   CLI (v2): aws apigatewayv2 update-stage --api-id API_ID --stage-name STAGE --stage-variables NAME=
-- frameworks:
-- aliases: apigateway_restapi_no_secrets_in_stage_variables
-- parameters: min_secret_entropy DOUBLE = 3.0
WITH stages AS (
    SELECT s.arn, s.account_id, s.region, s.rest_api_id AS api_id, s.name AS stage_name,
           format('Stage {} of REST API {} ({})', s.name, a.name, s.rest_api_id) AS label, s.variables
    FROM aws_api_gateway_stage s
    JOIN aws_api_gateway_rest_api a ON a.api_id = s.rest_api_id AND a.region = s.region AND a.account_id = s.account_id
    UNION ALL
    SELECT s.arn, s.account_id, s.region, s.api_id, s.stage_name,
           format('Stage {} of {} API {} ({})', s.stage_name, CASE a.protocol_type WHEN 'HTTP' THEN 'HTTP' ELSE 'WebSocket' END,
                  a.name, s.api_id),
           s.stage_variables
    FROM aws_api_gatewayv2_stage s
    JOIN aws_api_gatewayv2_api a ON a.api_id = s.api_id AND a.region = s.region AND a.account_id = s.account_id
),
variables AS (
    SELECT st.arn, v.key AS name, coalesce(v.value ->> '$', '') AS value
    FROM stages st, json_each(st.variables) v
),
entropy AS (
    SELECT arn, name, -sum(p * log2(p)) AS bits
    FROM (SELECT arn, name, count(*) / any_value(length(value)) AS p
          FROM variables, unnest(string_split(value, '')) AS c(ch)
          WHERE length(value) > 0
          GROUP BY arn, name, ch)
    GROUP BY arn, name
),
flagged AS (
    SELECT v.arn, v.name,
           CASE
               WHEN regexp_matches(v.value, '(AKIA|ASIA)[0-9A-Z]{16}') THEN 'an AWS access key id'
               WHEN regexp_matches(v.value, '-----BEGIN [A-Z ]*PRIVATE KEY-----') THEN 'a private key'
               WHEN regexp_matches(v.value, 'eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.') THEN 'a JSON Web Token'
               WHEN regexp_matches(lower(v.name), 'pass(word)?|passwd|pwd|secret|token|api_?key|access_?key|private_?key|credential')
                    AND length(v.value) >= 8
                    AND e.bits >= coalesce(getvariable('min_secret_entropy'), 3.0)
                   THEN 'a high-entropy value in a secret-named variable'
           END AS kind
    FROM variables v
    LEFT JOIN entropy e ON e.arn = v.arn AND e.name = v.name
),
per_stage AS (
    SELECT arn, string_agg(name || ' (' || kind || ')', ', ' ORDER BY name) AS secrets, count(*) AS n
    FROM flagged WHERE kind IS NOT NULL
    GROUP BY arn
)
SELECT st.arn AS resource,
       CASE WHEN p.secrets IS NULL THEN 'ok' ELSE 'alarm' END AS status,
       st.label || CASE WHEN p.secrets IS NULL THEN ' has no stage variable that looks like a secret.'
                        ELSE ' has stage variables that look like secrets: ' || p.secrets || '.' END AS reason,
       st.account_id, st.region, st.api_id, st.stage_name
FROM stages st
LEFT JOIN per_stage p ON p.arn = st.arn;
