"""Every API Gateway table against the sandbox: build a known estate, read it back through SQL.

One module-scoped builder creates REST and HTTP/WebSocket resources with known values in TEST_REGION;
each test then asserts that a table's columns hold exactly what was created. The last tests check
the fetch cost (one GetResources per API, shared by the resource and method tables) and that every
table's documented examples run.
"""
from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from apigw_sql.catalog import SpecError, load_catalog

try:
    from conftest import TEST_REGION
except ImportError:  # --import-mode=importlib does not put the tests folder on sys.path
    TEST_REGION = "ap-southeast-2"

ACCOUNT = "123456789012"
ARN = f"arn:aws:apigateway:{TEST_REGION}::"
LAMBDA_URI = (f"arn:aws:apigateway:{TEST_REGION}:lambda:path/2015-03-31/functions/"
              f"arn:aws:lambda:{TEST_REGION}:{ACCOUNT}:function:{{}}/invocations")
CERT_ARN = f"arn:aws:acm:{TEST_REGION}:{ACCOUNT}:certificate/11111111-2222-3333-4444-555555555555"
LOG_GROUP = f"arn:aws:logs:{TEST_REGION}:{ACCOUNT}:log-group:tbl-access"
NLB_ARN = f"arn:aws:elasticloadbalancing:{TEST_REGION}:{ACCOUNT}:loadbalancer/net/tbl-nlb/0123456789abcdef"
LISTENER_ARN = f"arn:aws:elasticloadbalancing:{TEST_REGION}:{ACCOUNT}:listener/app/tbl-alb/0123/4567"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/tbl-apigateway-cloudwatch"

PETS_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "VpceOnly", "Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
         "Resource": "execute-api:/*", "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0123"}}},
        {"Effect": "Deny", "Principal": {"AWS": ["*"]}, "NotAction": ["execute-api:Invoke"],
         "Resource": "execute-api:/*"},
        {"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": "execute-api:*", "Resource": "*",
         "Condition": {"StringLike": {"aws:UserAgent": "partner*"}, "IpAddress": {"AWS:SourceIp": "10.0.0.0/8"}}},
    ],
}
OPEN_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}]}


def aws_escaped(document: dict[str, Any]) -> str:
    """A policy the way AWS returns it: minified JSON with quotes and slashes backslash-escaped."""
    return json.dumps(document, separators=(",", ":")).replace('"', '\\"').replace("/", "\\/")


# ---- the estate ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def estate(sandbox) -> dict[str, Any]:
    """Known REST and HTTP/WebSocket resources in TEST_REGION; returns their identifiers."""
    ag = sandbox.client("apigateway", TEST_REGION)
    v2 = sandbox.client("apigatewayv2", TEST_REGION)
    ids: dict[str, Any] = {}

    # REST: one API with resources, methods, integrations, authorizers, validator, stage, gateway response
    pets = ag.create_rest_api(name="tbl-pets", description="pet store", policy=json.dumps(PETS_POLICY),
                              endpointConfiguration={"types": ["REGIONAL"]}, tags={"team": "pets"})
    api = ids["pets"] = pets["id"]
    ids["root"] = pets["rootResourceId"]
    ids["r_pets"] = ag.create_resource(restApiId=api, parentId=ids["root"], pathPart="pets")["id"]
    ids["r_pet"] = ag.create_resource(restApiId=api, parentId=ids["r_pets"], pathPart="{id}")["id"]
    ids["vpc_link"] = ag.create_vpc_link(name="tbl-link", description="to the NLB", targetArns=[NLB_ARN],
                                         tags={"net": "private"})["id"]
    ids["auth_token"] = ag.create_authorizer(
        restApiId=api, name="tbl-token", type="TOKEN", authorizerUri=LAMBDA_URI.format("auth"),
        identitySource="method.request.header.Authorization", identityValidationExpression="^Bearer .+$",
        authorizerResultTtlInSeconds=120)["id"]
    ids["auth_cognito"] = ag.create_authorizer(
        restApiId=api, name="tbl-cognito", type="COGNITO_USER_POOLS",
        providerARNs=[f"arn:aws:cognito-idp:{TEST_REGION}:{ACCOUNT}:userpool/{TEST_REGION}_abc"],
        identitySource="method.request.header.Authorization")["id"]
    ids["validator"] = ag.create_request_validator(restApiId=api, name="tbl-body", validateRequestBody=True,
                                                   validateRequestParameters=False)["id"]
    ag.put_method(restApiId=api, resourceId=ids["r_pets"], httpMethod="GET", authorizationType="NONE",
                  apiKeyRequired=True, requestParameters={"method.request.querystring.page": False})
    ag.put_integration(restApiId=api, resourceId=ids["r_pets"], httpMethod="GET", type="HTTP_PROXY",
                       integrationHttpMethod="GET", uri="http://backend.example.com/pets")
    ag.put_method(restApiId=api, resourceId=ids["r_pets"], httpMethod="POST", authorizationType="CUSTOM",
                  authorizerId=ids["auth_token"], requestValidatorId=ids["validator"],
                  requestModels={"application/json": "Empty"})
    ag.put_integration(restApiId=api, resourceId=ids["r_pets"], httpMethod="POST", type="AWS_PROXY",
                       integrationHttpMethod="POST", uri=LAMBDA_URI.format("create-pet"))
    ag.put_method(restApiId=api, resourceId=ids["r_pets"], httpMethod="OPTIONS", authorizationType="NONE")
    ag.put_integration(restApiId=api, resourceId=ids["r_pets"], httpMethod="OPTIONS", type="MOCK")
    ag.put_method(restApiId=api, resourceId=ids["r_pet"], httpMethod="DELETE", authorizationType="AWS_IAM")
    ag.put_integration(restApiId=api, resourceId=ids["r_pet"], httpMethod="DELETE", type="HTTP",
                       integrationHttpMethod="DELETE", uri="https://internal.example.com/pets/{id}",
                       connectionType="VPC_LINK", connectionId=ids["vpc_link"])
    ag.put_gateway_response(restApiId=api, responseType="DEFAULT_4XX", statusCode="400",
                            responseParameters={"gatewayresponse.header.X-Frame-Options": "'DENY'"},
                            responseTemplates={"application/json": '{"message": "bad request"}'})
    ids["deployment"] = ag.create_deployment(restApiId=api, description="first")["id"]
    ids["cert"] = ag.generate_client_certificate(description="tbl backend cert", tags={"use": "mtls"})[
        "clientCertificateId"]
    ag.create_stage(restApiId=api, stageName="prod", deploymentId=ids["deployment"], tags={"stage": "prod"})
    ag.update_stage(restApiId=api, stageName="prod", patchOperations=[
        {"op": "replace", "path": "/*/*/logging/loglevel", "value": "ERROR"},
        {"op": "replace", "path": "/*/*/metrics/enabled", "value": "true"},
        {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "100"},
        {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "50"},
        {"op": "replace", "path": "/~1pets/GET/logging/loglevel", "value": "OFF"},
        {"op": "replace", "path": "/~1pets/GET/caching/enabled", "value": "true"},
        {"op": "replace", "path": "/~1pets/GET/caching/dataEncrypted", "value": "false"},
        {"op": "replace", "path": "/~1pets~1{id}/DELETE/logging/dataTrace", "value": "true"},
        {"op": "replace", "path": "/tracingEnabled", "value": "true"},
        {"op": "replace", "path": "/clientCertificateId", "value": ids["cert"]},
        {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": LOG_GROUP},
        {"op": "replace", "path": "/accessLogSettings/format", "value": "$context.requestId"},
    ])

    # REST: a private API whose policy is stored already escaped, the way AWS returns every policy
    ids["private"] = ag.create_rest_api(name="tbl-private", policy=aws_escaped(OPEN_POLICY),
                                        endpointConfiguration={"types": ["PRIVATE"]})["id"]

    # REST: keys, plans, domains, account
    ids["key"] = ag.create_api_key(name="tbl-key", description="partner key", enabled=True, customerId="cust-7",
                                   tags={"owner": "partner"})["id"]
    ids["key_off"] = ag.create_api_key(name="tbl-key-off", enabled=False)["id"]
    ids["plan"] = ag.create_usage_plan(name="tbl-plan", description="gold", apiStages=[{"apiId": api, "stage": "prod"}],
                                       throttle={"rateLimit": 10.0, "burstLimit": 5},
                                       quota={"limit": 1000, "offset": 0, "period": "DAY"}, tags={"tier": "gold"})["id"]
    ids["plan_bare"] = ag.create_usage_plan(name="tbl-plan-bare")["id"]
    ag.create_usage_plan_key(usagePlanId=ids["plan"], keyId=ids["key"], keyType="API_KEY")
    ag.create_domain_name(domainName="tbl-api.example.com", regionalCertificateArn=CERT_ARN,
                          endpointConfiguration={"types": ["REGIONAL"]}, securityPolicy="TLS_1_2",
                          mutualTlsAuthentication={"truststoreUri": "s3://tbl-trust/rest.pem"}, tags={"dns": "rest"})
    sandbox.set_truststore_warnings("tbl-api.example.com", ["expired certificate"], region=TEST_REGION, api="rest")
    ag.create_base_path_mapping(domainName="tbl-api.example.com", basePath="v1", restApiId=api, stage="prod")
    ag.update_account(patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": ROLE_ARN}])

    # HTTP and WebSocket APIs
    http = v2.create_api(Name="tbl-http", ProtocolType="HTTP", Description="items",
                         CorsConfiguration={"AllowOrigins": ["*"], "AllowCredentials": True, "AllowMethods": ["GET"],
                                            "AllowHeaders": ["authorization"]}, Tags={"team": "items"})
    ids["http"] = http["ApiId"]
    ids["ws"] = v2.create_api(Name="tbl-ws", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action",
                              DisableExecuteApiEndpoint=True)["ApiId"]
    ids["v2_link"] = v2.create_vpc_link(Name="tbl-v2-link", SubnetIds=["subnet-1", "subnet-2"],
                                        SecurityGroupIds=["sg-1"], Tags={"net": "v2"})["VpcLinkId"]
    ids["integration"] = v2.create_integration(
        ApiId=ids["http"], IntegrationType="HTTP_PROXY", IntegrationMethod="ANY", IntegrationUri=LISTENER_ARN,
        ConnectionType="VPC_LINK", ConnectionId=ids["v2_link"], PayloadFormatVersion="1.0",
        TlsConfig={"ServerNameToVerify": "backend.example.com"})["IntegrationId"]
    ids["integration_open"] = v2.create_integration(
        ApiId=ids["http"], IntegrationType="HTTP_PROXY", IntegrationMethod="GET",
        IntegrationUri="http://legacy.example.com/", PayloadFormatVersion="1.0")["IntegrationId"]
    ids["jwt"] = v2.create_authorizer(ApiId=ids["http"], AuthorizerType="JWT", Name="tbl-jwt",
                                      IdentitySource=["$request.header.Authorization"],
                                      JwtConfiguration={"Audience": ["tbl-client"],
                                                        "Issuer": "https://issuer.example.com"})["AuthorizerId"]
    ids["route_items"] = v2.create_route(ApiId=ids["http"], RouteKey="GET /items", AuthorizationType="JWT",
                                         AuthorizerId=ids["jwt"], AuthorizationScopes=["items.read"],
                                         Target=f"integrations/{ids['integration']}")["RouteId"]
    ids["route_options"] = v2.create_route(ApiId=ids["http"], RouteKey="OPTIONS /items",
                                           AuthorizationType="NONE")["RouteId"]
    ids["route_connect"] = v2.create_route(ApiId=ids["ws"], RouteKey="$connect", AuthorizationType="NONE")["RouteId"]
    v2.create_stage(ApiId=ids["http"], StageName="live", Description="live traffic",
                    AccessLogSettings={"DestinationArn": LOG_GROUP, "Format": "$context.requestId $context.status"},
                    DefaultRouteSettings={"DetailedMetricsEnabled": True, "ThrottlingBurstLimit": 10,
                                          "ThrottlingRateLimit": 20.0},
                    RouteSettings={"GET /items": {"ThrottlingBurstLimit": 1, "ThrottlingRateLimit": 2.0}},
                    StageVariables={"backend": "alb"}, Tags={"stage": "live"})
    v2.create_stage(ApiId=ids["ws"], StageName="chat",
                    DefaultRouteSettings={"LoggingLevel": "INFO", "DataTraceEnabled": True})
    v2.create_domain_name(DomainName="tbl-v2.example.com",
                          DomainNameConfigurations=[{"CertificateArn": CERT_ARN, "EndpointType": "REGIONAL",
                                                     "SecurityPolicy": "TLS_1_2"}],
                          MutualTlsAuthentication={"TruststoreUri": "s3://tbl-trust/v2.pem"}, Tags={"dns": "v2"})
    ids["mapping"] = v2.create_api_mapping(DomainName="tbl-v2.example.com", ApiId=ids["http"], Stage="live",
                                           ApiMappingKey="items")["ApiMappingId"]
    return ids


@pytest.fixture(scope="module")
def con(sandbox, estate):
    """One connection for the read-back tests, so that shared calls are made once."""
    import apigw_sql

    connection = apigw_sql.connect(endpoint_url=sandbox.endpoint_url, regions=[*sandbox.regions, TEST_REGION],
                                   max_attempts=1, rate_limit=False)
    yield connection
    connection.close()


def rows(con, sql: str) -> list[dict[str, Any]]:
    result = con.sql(sql)
    assert not result.errors, [e.line() for e in result.errors]
    return result.dicts()


def one(con, sql: str) -> dict[str, Any]:
    found = rows(con, sql)
    assert len(found) == 1, found
    return found[0]


def loads(value: Any) -> Any:
    return None if value is None else json.loads(value)


def in_region(extra: str = "") -> str:
    return f"WHERE region = '{TEST_REGION}'" + (f" AND {extra}" if extra else "")


# ---- REST -------------------------------------------------------------------------------------

def test_resource(con, estate):
    found = rows(con, f"SELECT * FROM aws_api_gateway_resource {in_region()} AND rest_api_id = '{estate['pets']}' "
                      "ORDER BY path")
    assert [(r["path"], r["path_part"], r["parent_id"], r["http_methods"], r["id"]) for r in found] == [
        ("/", None, None, [], estate["root"]),
        ("/pets", "pets", estate["root"], ["GET", "OPTIONS", "POST"], estate["r_pets"]),
        ("/pets/{id}", "{id}", estate["r_pets"], ["DELETE"], estate["r_pet"]),
    ]
    assert found[1]["arn"] == f"{ARN}/restapis/{estate['pets']}/resources/{estate['r_pets']}"
    assert loads(found[1]["akas"]) == [found[1]["arn"]]
    assert found[1]["title"] == "/pets" and found[1]["account_id"] == ACCOUNT and found[1]["partition"] == "aws"


def test_method_explodes_verbs_with_auth_and_integration(con, estate):
    found = {r["title"]: r for r in rows(con, f"SELECT * FROM aws_api_gateway_method {in_region()} "
                                              f"AND rest_api_id = '{estate['pets']}'")}
    assert sorted(found) == ["DELETE /pets/{id}", "GET /pets", "OPTIONS /pets", "POST /pets"]
    get, post, delete = found["GET /pets"], found["POST /pets"], found["DELETE /pets/{id}"]
    assert (get["http_method"], get["resource_id"], get["path"], get["path_part"]) == \
        ("GET", estate["r_pets"], "/pets", "pets")
    assert (get["authorization_type"], get["authorizer_id"], get["api_key_required"]) == ("NONE", None, True)
    assert loads(get["request_parameters"]) == {"method.request.querystring.page": False}
    assert (get["integration_type"], get["integration_http_method"], get["integration_uri"]) == \
        ("HTTP_PROXY", "GET", "http://backend.example.com/pets")
    assert loads(get["method_integration"])["uri"] == "http://backend.example.com/pets"
    assert (post["authorization_type"], post["authorizer_id"], post["api_key_required"]) == \
        ("CUSTOM", estate["auth_token"], False)
    assert post["request_validator_id"] == estate["validator"]
    assert loads(post["request_models"]) == {"application/json": "Empty"}
    assert (post["integration_type"], post["integration_uri"]) == ("AWS_PROXY", LAMBDA_URI.format("create-pet"))
    assert (delete["authorization_type"], delete["integration_type"], delete["connection_type"]) == \
        ("AWS_IAM", "HTTP", "VPC_LINK")
    assert found["OPTIONS /pets"]["integration_type"] == "MOCK"
    assert delete["arn"] == f"{ARN}/restapis/{estate['pets']}/resources/{estate['r_pet']}/methods/DELETE"


def test_method_vpc_link_connection_id(con, estate):
    delete = one(con, f"SELECT connection_id FROM aws_api_gateway_method {in_region()} "
                      f"AND rest_api_id = '{estate['pets']}' AND http_method = 'DELETE'")
    assert delete["connection_id"] == estate["vpc_link"]


def test_stage_example_table(con, estate):
    stage = one(con, f"SELECT * FROM aws_api_gateway_stage {in_region()} AND rest_api_id = '{estate['pets']}'")
    assert (stage["name"], stage["deployment_id"], stage["tracing_enabled"]) == ("prod", estate["deployment"], True)
    assert stage["client_certificate_id"] == estate["cert"]
    assert (stage["access_log_destination_arn"], stage["access_log_format"]) == (LOG_GROUP, "$context.requestId")
    assert stage["arn"] == f"{ARN}/restapis/{estate['pets']}/stages/prod"
    assert loads(stage["tags"]) == {"stage": "prod"}


def test_method_settings_default_and_overrides(con, estate):
    found = {r["key"]: r for r in rows(con, f"SELECT * FROM aws_api_gateway_method_setting {in_region()} "
                                            f"AND rest_api_id = '{estate['pets']}'")}
    assert sorted(found) == ["*/*", "~1pets/GET", "~1pets~1{id}/DELETE"]
    default, get, delete = found["*/*"], found["~1pets/GET"], found["~1pets~1{id}/DELETE"]
    assert (default["resource_path"], default["http_method"], default["is_default"]) == ("*", "*", True)
    assert (default["logging_level"], default["metrics_enabled"], default["caching_enabled"]) == ("ERROR", True, False)
    assert (default["throttling_rate_limit"], default["throttling_burst_limit"]) == (100.0, 50)
    assert (get["resource_path"], get["http_method"], get["is_default"]) == ("/pets", "GET", False)
    assert (get["logging_level"], get["caching_enabled"], get["cache_data_encrypted"]) == ("OFF", True, False)
    assert (delete["resource_path"], delete["http_method"], delete["data_trace_enabled"]) == \
        ("/pets/{id}", "DELETE", True)
    assert all(r["stage_name"] == "prod" for r in found.values())
    assert default["stage_arn"] == f"{ARN}/restapis/{estate['pets']}/stages/prod"
    assert default["cache_ttl_in_seconds"] == 300
    assert default["unauthorized_cache_control_header_strategy"] == "SUCCEED_WITH_RESPONSE_HEADER"


def test_rest_api_policy_decoded_from_escaped_string(con, sandbox, estate):
    raw = sandbox.client("apigateway", TEST_REGION).get_rest_api(restApiId=estate["private"])["policy"]
    assert raw.startswith('{\\"'), raw  # the escaped form AWS returns
    found = {r["api_id"]: r for r in rows(con, f"SELECT * FROM aws_api_gateway_rest_api {in_region()} "
                                               f"AND api_id IN ('{estate['pets']}', '{estate['private']}')")}
    assert loads(found[estate["private"]]["policy"]) == OPEN_POLICY
    assert loads(found[estate["pets"]]["policy"]) == PETS_POLICY
    assert found[estate["private"]]["endpoint_configuration_types"] == ["PRIVATE"]
    assert loads(found[estate["pets"]]["tags"]) == {"team": "pets"}


def test_policy_statements(con, estate):
    found = rows(con, f"SELECT * FROM aws_api_gateway_rest_api_policy_statement {in_region()} "
                      f"AND rest_api_id IN ('{estate['pets']}', '{estate['private']}') ORDER BY rest_api_id = "
                      f"'{estate['private']}', statement_index")
    got = [(r["rest_api_id"], r["statement_index"], r["sid"], r["effect"], r["principal_is_public"],
            r["condition_keys"], r["has_source_restriction"]) for r in found]
    assert got == [
        (estate["pets"], 0, "VpceOnly", "Allow", True, ["aws:sourcevpce"], True),
        (estate["pets"], 1, None, "Deny", True, [], False),
        (estate["pets"], 2, "Partner", "Allow", False, ["aws:sourceip", "aws:useragent"], True),
        (estate["private"], 0, None, "Allow", True, [], False),
    ]
    vpce, deny, partner, public = found
    assert loads(vpce["principal"]) == "*" and loads(vpce["action"]) == "execute-api:Invoke"
    assert loads(vpce["resource"]) == "execute-api:/*"
    assert loads(vpce["condition"]) == {"StringEquals": {"aws:SourceVpce": "vpce-0123"}}
    assert loads(deny["not_action"]) == ["execute-api:Invoke"] and deny["action"] is None
    assert loads(partner["principal"]) == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert loads(public["principal"]) == {"AWS": "*"} and public["condition"] is None
    assert public["rest_api_arn"] == f"{ARN}/restapis/{estate['private']}"


def test_authorizers(con, estate):
    found = {r["name"]: r for r in rows(con, f"SELECT * FROM aws_api_gateway_authorizer {in_region()} "
                                             f"AND rest_api_id = '{estate['pets']}'")}
    token, cognito = found["tbl-token"], found["tbl-cognito"]
    assert (token["id"], token["type"], token["authorizer_uri"]) == \
        (estate["auth_token"], "TOKEN", LAMBDA_URI.format("auth"))
    assert token["identity_source"] == "method.request.header.Authorization"
    assert token["authorizer_result_ttl_in_seconds"] == 120
    assert (cognito["type"], loads(cognito["provider_arns"])) == \
        ("COGNITO_USER_POOLS", [f"arn:aws:cognito-idp:{TEST_REGION}:{ACCOUNT}:userpool/{TEST_REGION}_abc"])
    assert token["arn"] == f"{ARN}/restapis/{estate['pets']}/authorizers/{estate['auth_token']}"


def test_authorizer_identity_validation_expression(con, estate):
    token = one(con, f"SELECT identity_validation_expression FROM aws_api_gateway_authorizer {in_region()} "
                     f"AND rest_api_id = '{estate['pets']}' AND name = 'tbl-token'")
    assert token["identity_validation_expression"] == "^Bearer .+$"


def test_request_validator_deployment_gateway_response(con, estate):
    validator = one(con, f"SELECT * FROM aws_api_gateway_request_validator {in_region()} "
                         f"AND rest_api_id = '{estate['pets']}'")
    assert (validator["id"], validator["name"], validator["validate_request_body"],
            validator["validate_request_parameters"]) == (estate["validator"], "tbl-body", True, False)
    deployment = one(con, f"SELECT * FROM aws_api_gateway_deployment {in_region()} "
                          f"AND rest_api_id = '{estate['pets']}'")
    assert (deployment["id"], deployment["description"]) == (estate["deployment"], "first")
    assert deployment["created_date"] is not None
    assert deployment["arn"] == f"{ARN}/restapis/{estate['pets']}/deployments/{estate['deployment']}"
    response = one(con, f"SELECT * FROM aws_api_gateway_gateway_response {in_region()} "
                        f"AND rest_api_id = '{estate['pets']}' AND response_type = 'DEFAULT_4XX'")
    assert (response["status_code"], response["default_response"]) == ("400", False)
    assert loads(response["response_parameters"]) == {"gatewayresponse.header.X-Frame-Options": "'DENY'"}
    assert loads(response["response_templates"]) == {"application/json": '{"message": "bad request"}'}
    assert response["arn"] == f"{ARN}/restapis/{estate['pets']}/gatewayresponses/DEFAULT_4XX"


def test_api_keys_never_carry_a_value(con, estate):
    found = {r["id"]: r for r in rows(con, f"SELECT * FROM aws_api_gateway_api_key {in_region()} "
                                           f"AND id IN ('{estate['key']}', '{estate['key_off']}')")}
    key, off = found[estate["key"]], found[estate["key_off"]]
    assert "value" not in key
    assert (key["name"], key["enabled"], key["customer_id"], key["description"]) == \
        ("tbl-key", True, "cust-7", "partner key")
    assert key["created_date"] is not None and key["last_updated_date"] is not None
    assert loads(key["stage_keys"]) == [] and loads(key["tags"]) == {"owner": "partner"}
    assert (off["enabled"], off["arn"]) == (False, f"{ARN}/apikeys/{estate['key_off']}")
    calls = [c for c in con.fetch_log if c.operation == "GetApiKeys"]
    assert calls and all("includeValue" not in c.params for c in calls)


def test_api_key_customer_id_is_pushed_to_the_call(connect, estate):
    con = connect(regions=[TEST_REGION])
    found = rows(con, "SELECT id FROM aws_api_gateway_api_key WHERE customer_id = 'cust-7'")
    assert [r["id"] for r in found] == [estate["key"]]
    assert [json.loads(c.params) for c in con.fetch_log if c.operation == "GetApiKeys"] == [{"customerId": "cust-7"}]


def test_usage_plans_and_keys(con, estate):
    plans = {r["id"]: r for r in rows(con, f"SELECT * FROM aws_api_gateway_usage_plan {in_region()} "
                                           f"AND id IN ('{estate['plan']}', '{estate['plan_bare']}')")}
    plan, bare = plans[estate["plan"]], plans[estate["plan_bare"]]
    assert (plan["name"], plan["description"]) == ("tbl-plan", "gold")
    assert (plan["throttle_rate_limit"], plan["throttle_burst_limit"]) == (10.0, 5)
    assert (plan["quota_limit"], plan["quota_period"], plan["quota_offset"]) == (1000, "DAY", 0)
    assert loads(plan["api_stages"]) == [{"apiId": estate["pets"], "stage": "prod"}]
    assert loads(plan["tags"]) == {"tier": "gold"} and plan["arn"] == f"{ARN}/usageplans/{estate['plan']}"
    assert (bare["throttle_rate_limit"], bare["quota_limit"]) == (None, None)
    key = one(con, f"SELECT * FROM aws_api_gateway_usage_plan_key {in_region()} AND usage_plan_id = '{estate['plan']}'")
    assert (key["id"], key["name"], key["type"]) == (estate["key"], "tbl-key", "API_KEY")
    assert "value" not in key
    assert key["arn"] == f"{ARN}/usageplans/{estate['plan']}/keys/{estate['key']}"


def test_client_certificate(con, estate):
    cert = one(con, f"SELECT * FROM aws_api_gateway_client_certificate {in_region()} "
                    f"AND client_certificate_id = '{estate['cert']}'")
    assert cert["description"] == "tbl backend cert" and loads(cert["tags"]) == {"use": "mtls"}
    assert cert["expiration_date"] > cert["created_date"]
    assert not any("pem" in column for column in cert)
    assert cert["arn"] == f"{ARN}/clientcertificates/{estate['cert']}"


def test_domain_name_and_base_path_mapping(con, estate):
    domain = one(con, f"SELECT * FROM aws_api_gateway_domain_name {in_region()} "
                      "AND domain_name = 'tbl-api.example.com'")
    assert (domain["security_policy"], domain["regional_certificate_arn"], domain["certificate_arn"]) == \
        ("TLS_1_2", CERT_ARN, None)
    assert domain["endpoint_configuration_types"] == ["REGIONAL"]
    assert domain["truststore_uri"] == "s3://tbl-trust/rest.pem"
    assert loads(domain["truststore_warnings"]) == ["expired certificate"]
    assert loads(domain["mutual_tls_authentication"])["truststoreUri"] == "s3://tbl-trust/rest.pem"
    assert loads(domain["tags"]) == {"dns": "rest"}
    assert domain["arn"] == f"{ARN}/domainnames/tbl-api.example.com"
    mapping = one(con, f"SELECT * FROM aws_api_gateway_base_path_mapping {in_region()} "
                       "AND domain_name = 'tbl-api.example.com'")
    assert (mapping["base_path"], mapping["rest_api_id"], mapping["stage"]) == ("v1", estate["pets"], "prod")
    assert mapping["arn"] == f"{ARN}/domainnames/tbl-api.example.com/basepathmappings/v1"


def test_vpc_link_and_account(con, estate):
    link = one(con, f"SELECT * FROM aws_api_gateway_vpc_link {in_region()} AND id = '{estate['vpc_link']}'")
    assert (link["name"], link["description"], link["target_arns"], link["status"]) == \
        ("tbl-link", "to the NLB", [NLB_ARN], "AVAILABLE")
    assert loads(link["tags"]) == {"net": "private"} and link["arn"] == f"{ARN}/vpclinks/{estate['vpc_link']}"
    account = one(con, f"SELECT * FROM aws_api_gateway_account {in_region()}")
    assert account["cloudwatch_role_arn"] == ROLE_ARN
    assert account["throttle_rate_limit"] > 0 and account["throttle_burst_limit"] > 0
    assert (account["arn"], account["account_id"]) == (f"{ARN}/account", ACCOUNT)
    regions = [r["region"] for r in rows(con, "SELECT region FROM aws_api_gateway_account ORDER BY region")]
    assert TEST_REGION in regions and len(regions) == len(set(regions))


# ---- HTTP and WebSocket -----------------------------------------------------------------------

def test_v2_apis(con, estate):
    found = {r["name"]: r for r in rows(con, f"SELECT * FROM aws_api_gatewayv2_api {in_region()} "
                                             f"AND api_id IN ('{estate['http']}', '{estate['ws']}')")}
    http, ws = found["tbl-http"], found["tbl-ws"]
    assert (http["protocol_type"], http["description"], http["disable_execute_api_endpoint"]) == \
        ("HTTP", "items", False)
    assert (http["cors_allow_origins"], http["cors_allow_credentials"], http["cors_allow_methods"],
            http["cors_allow_headers"]) == (["*"], True, ["GET"], ["authorization"])
    assert loads(http["tags"]) == {"team": "items"} and http["arn"] == f"{ARN}/apis/{estate['http']}"
    assert (ws["protocol_type"], ws["route_selection_expression"], ws["disable_execute_api_endpoint"]) == \
        ("WEBSOCKET", "$request.body.action", True)
    assert ws["cors_configuration"] is None and ws["cors_allow_origins"] is None


def test_v2_stages(con, estate):
    found = {r["stage_name"]: r for r in rows(con, f"SELECT * FROM aws_api_gatewayv2_stage {in_region()} "
                                                   f"AND api_id IN ('{estate['http']}', '{estate['ws']}')")}
    live, chat = found["live"], found["chat"]
    assert (live["api_id"], live["protocol_type"], live["description"]) == (estate["http"], "HTTP", "live traffic")
    assert (live["access_log_destination_arn"], live["access_log_format"]) == \
        (LOG_GROUP, "$context.requestId $context.status")
    assert (live["default_route_detailed_metrics_enabled"], live["default_route_throttling_rate_limit"],
            live["default_route_throttling_burst_limit"]) == (True, 20.0, 10)
    assert (live["default_route_logging_level"], live["default_route_data_trace_enabled"]) == (None, False)
    assert loads(live["route_settings"]) == {"GET /items": {"ThrottlingBurstLimit": 1, "ThrottlingRateLimit": 2.0}}
    assert loads(live["stage_variables"]) == {"backend": "alb"} and loads(live["tags"]) == {"stage": "live"}
    assert live["arn"] == f"{ARN}/apis/{estate['http']}/stages/live"
    assert (chat["protocol_type"], chat["default_route_logging_level"], chat["default_route_data_trace_enabled"]) == \
        ("WEBSOCKET", "INFO", True)
    assert chat["access_log_destination_arn"] is None


def test_v2_routes(con, estate):
    found = {r["route_key"]: r for r in rows(con, f"SELECT * FROM aws_api_gatewayv2_route {in_region()} "
                                                  f"AND api_id IN ('{estate['http']}', '{estate['ws']}')")}
    assert sorted(found) == ["$connect", "GET /items", "OPTIONS /items"]
    items = found["GET /items"]
    assert (items["route_id"], items["authorization_type"], items["authorizer_id"]) == \
        (estate["route_items"], "JWT", estate["jwt"])
    assert loads(items["authorization_scopes"]) == ["items.read"]
    assert items["target"] == f"integrations/{estate['integration']}"
    assert (found["$connect"]["protocol_type"], found["$connect"]["authorization_type"]) == ("WEBSOCKET", "NONE")
    assert items["arn"] == f"{ARN}/apis/{estate['http']}/routes/{estate['route_items']}"


def test_v2_integrations(con, estate):
    found = {r["integration_id"]: r for r in rows(con, f"SELECT * FROM aws_api_gatewayv2_integration {in_region()} "
                                                       f"AND api_id = '{estate['http']}'")}
    private, legacy = found[estate["integration"]], found[estate["integration_open"]]
    assert (private["integration_type"], private["integration_method"], private["integration_uri"]) == \
        ("HTTP_PROXY", "ANY", LISTENER_ARN)
    assert (private["connection_type"], private["connection_id"]) == ("VPC_LINK", estate["v2_link"])
    assert private["tls_config_server_name_to_verify"] == "backend.example.com"
    assert loads(private["tls_config"]) == {"ServerNameToVerify": "backend.example.com"}
    assert private["payload_format_version"] == "1.0"
    assert (legacy["integration_uri"], legacy["tls_config_server_name_to_verify"]) == \
        ("http://legacy.example.com/", None)
    assert private["arn"] == f"{ARN}/apis/{estate['http']}/integrations/{estate['integration']}"


def test_v2_authorizer(con, estate):
    jwt = one(con, f"SELECT * FROM aws_api_gatewayv2_authorizer {in_region()} AND api_id = '{estate['http']}'")
    assert (jwt["authorizer_id"], jwt["name"], jwt["authorizer_type"]) == (estate["jwt"], "tbl-jwt", "JWT")
    assert jwt["identity_source"] == ["$request.header.Authorization"]
    assert (jwt["jwt_audience"], jwt["jwt_issuer"]) == (["tbl-client"], "https://issuer.example.com")
    assert jwt["arn"] == f"{ARN}/apis/{estate['http']}/authorizers/{estate['jwt']}"


def test_v2_domain_name_and_api_mapping(con, estate):
    domain = one(con, f"SELECT * FROM aws_api_gatewayv2_domain_name {in_region()} "
                      "AND domain_name = 'tbl-v2.example.com'")
    assert (domain["security_policy"], domain["security_policies"]) == ("TLS_1_2", ["TLS_1_2"])
    assert (domain["certificate_arns"], domain["endpoint_types"]) == ([CERT_ARN], ["REGIONAL"])
    assert domain["truststore_uri"] == "s3://tbl-trust/v2.pem"
    assert loads(domain["tags"]) == {"dns": "v2"} and domain["arn"] == f"{ARN}/domainnames/tbl-v2.example.com"
    mapping = one(con, f"SELECT * FROM aws_api_gatewayv2_api_mapping {in_region()} "
                       "AND domain_name = 'tbl-v2.example.com'")
    assert (mapping["api_mapping_id"], mapping["api_id"], mapping["stage"], mapping["api_mapping_key"]) == \
        (estate["mapping"], estate["http"], "live", "items")
    assert mapping["arn"] == f"{ARN}/domainnames/tbl-v2.example.com/apimappings/{estate['mapping']}"


def test_v2_vpc_link(con, estate):
    link = one(con, f"SELECT * FROM aws_api_gatewayv2_vpc_link {in_region()} AND vpc_link_id = '{estate['v2_link']}'")
    assert (link["name"], link["subnet_ids"], link["security_group_ids"]) == \
        ("tbl-v2-link", ["subnet-1", "subnet-2"], ["sg-1"])
    assert (link["vpc_link_status"], link["vpc_link_version"]) == ("AVAILABLE", "V2")
    assert loads(link["tags"]) == {"net": "v2"} and link["arn"] == f"{ARN}/vpclinks/{estate['v2_link']}"


# ---- fetch cost -------------------------------------------------------------------------------

def get_resources_calls(con) -> Counter:
    return Counter(json.loads(c.params)["restApiId"] for c in con.fetch_log
                   if c.operation == "GetResources" and c.region == TEST_REGION)


def test_method_table_makes_one_get_resources_per_api(connect, estate):
    con = connect(regions=[TEST_REGION])
    rows(con, "SELECT * FROM aws_api_gateway_method")
    calls = get_resources_calls(con)
    assert calls[estate["pets"]] == 1 and calls[estate["private"]] == 1
    assert set(calls.values()) == {1}
    assert not [c for c in con.fetch_log if c.operation == "GetMethod"]
    sent = [json.loads(c.params) for c in con.fetch_log if c.operation == "GetResources"]
    assert all(p["embed"] == ["methods"] for p in sent)


def test_resource_and_method_tables_share_one_get_resources(connect, estate):
    con = connect(regions=[TEST_REGION])
    found = rows(con, "SELECT r.path, m.http_method FROM aws_api_gateway_resource r "
                      "JOIN aws_api_gateway_method m ON m.resource_id = r.id AND m.rest_api_id = r.rest_api_id "
                      f"WHERE r.rest_api_id = '{estate['pets']}' ORDER BY 1, 2")
    assert [(r["path"], r["http_method"]) for r in found] == [
        ("/pets", "GET"), ("/pets", "OPTIONS"), ("/pets", "POST"), ("/pets/{id}", "DELETE")]
    calls = get_resources_calls(con)  # the method table is not narrowed here, so it reads every API, once
    assert calls[estate["pets"]] == 1 and calls[estate["private"]] == 1 and set(calls.values()) == {1}


def test_pushdown_on_rest_api_id_narrows_the_fan_out(connect, estate):
    con = connect(regions=[TEST_REGION])
    rows(con, f"SELECT * FROM aws_api_gateway_method_setting WHERE rest_api_id = '{estate['pets']}'")
    stages = [json.loads(c.params)["restApiId"] for c in con.fetch_log if c.operation == "GetStages"]
    assert stages == [estate["pets"]]


# ---- the catalog ----------------------------------------------------------------------------

def _catalog_names() -> list[str]:
    try:
        return list(load_catalog())
    except SpecError:
        return []  # test_catalog_loads reports the error


API_GATEWAY_TABLES = {
    "aws_api_gateway_rest_api", "aws_api_gateway_resource", "aws_api_gateway_method", "aws_api_gateway_stage",
    "aws_api_gateway_method_setting", "aws_api_gateway_authorizer", "aws_api_gateway_request_validator",
    "aws_api_gateway_deployment", "aws_api_gateway_rest_api_policy_statement", "aws_api_gateway_api_key",
    "aws_api_gateway_usage_plan", "aws_api_gateway_usage_plan_key", "aws_api_gateway_client_certificate",
    "aws_api_gateway_domain_name", "aws_api_gateway_base_path_mapping", "aws_api_gateway_vpc_link",
    "aws_api_gateway_gateway_response", "aws_api_gateway_account", "aws_api_gatewayv2_api", "aws_api_gatewayv2_stage",
    "aws_api_gatewayv2_route", "aws_api_gatewayv2_integration", "aws_api_gatewayv2_authorizer",
    "aws_api_gatewayv2_domain_name", "aws_api_gatewayv2_api_mapping", "aws_api_gatewayv2_vpc_link",
}


def test_catalog_loads():
    catalog = load_catalog()
    missing = API_GATEWAY_TABLES - set(catalog)
    assert not missing
    for name in sorted(API_GATEWAY_TABLES):
        spec = catalog[name]
        assert 1 <= len(spec.examples) <= 3, name
        assert all(c.description.endswith(".") for c in spec.columns), name
        if spec.column("arn") is not None:
            assert spec.column("title") is not None and spec.column("akas") is not None, name


@pytest.mark.parametrize("name", _catalog_names())
def test_examples_run(con, name):
    for example in load_catalog()[name].examples:
        result = con.sql(example)
        assert result.columns, example
        assert not result.errors, [e.line() for e in result.errors]



def test_column_wise_rows_equal_the_row_mapping():
    """Columnar items (build_table) give the rows and types build_rows gives, whatever shape the values have."""
    from datetime import datetime, timezone

    from apigw_sql.catalog import ColumnSpec, FetchSpec, TableSpec
    from apigw_sql.rowbuild import arrow_table, build_rows, build_table

    columns = (
        ColumnSpec("name", "VARCHAR", "d.", path="name"),
        ColumnSpec("size", "BIGINT", "d.", path="size"),
        ColumnSpec("ratio", "DOUBLE", "d.", path="ratio"),
        ColumnSpec("on", "BOOLEAN", "d.", path="on"),
        ColumnSpec("at", "TIMESTAMP", "d.", path="at"),
        ColumnSpec("doc", "JSON", "d.", path="doc"),
        ColumnSpec("tags", "VARCHAR[]", "d.", path="tags"),
        ColumnSpec("inner", "VARCHAR", "d.", path="nested.key"),
        ColumnSpec("arn", "VARCHAR", "d.", template="arn:{$partition}:x:{$region}::/r/{name}"),
        ColumnSpec("policy", "JSON", "d.", path="policy", transform="policy_document"),
        ColumnSpec("kind", "VARCHAR", "d.", path="kind", default="none"),
        ColumnSpec("region", "VARCHAR", "d.", path="$region"),
        ColumnSpec("whole", "JSON", "d.", path="$item"),
    )
    spec = TableSpec("t", "d.", None, "region", FetchSpec(rows="m:f"), columns)
    aware = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    items = [
        {"name": "plain", "size": 3, "ratio": 0.5, "on": True, "at": aware, "doc": {"a": [1]}, "tags": ["x", None],
         "nested": {"key": "k"}, "policy": '{\\"Version\\": \\"1\\"}', "kind": "rest"},
        {"name": 7, "size": "12", "ratio": 2, "on": "yes", "at": "2026-01-02T03:04:05Z", "doc": "text",
         "tags": ("t", 1), "nested": [{"key": "a"}, {"key": "b"}], "policy": None},
        {"name": ["a", 1], "size": True, "ratio": "nan?", "on": 0, "at": 1767322800, "doc": None, "tags": "one",
         "nested": None},
        {"name": None, "size": 2.7, "ratio": None, "on": None, "at": None, "tags": None},
        "not a dict",
    ]
    context = {"$region": "eu-west-1", "$account_id": "1", "$partition": "aws", "$parent": {}}
    by_rows = arrow_table(spec, build_rows(spec, items, context))
    by_columns = build_table(spec, items, context)
    assert by_columns.schema == by_rows.schema
    assert by_columns.to_pylist() == by_rows.to_pylist()
    assert by_columns.column("name").to_pylist() == ["plain", "7", '["a", 1]', None, None]
    exploded = TableSpec("e", "d.", None, "region", FetchSpec(rows="m:f", explode="tags"),
                         (ColumnSpec("tag", "VARCHAR", "d.", path="$item"), ColumnSpec("at", "BIGINT", "d.", path="$key")))
    assert build_table(exploded, items[:2], context).to_pylist() == build_rows(exploded, items[:2], context)
