"""Every API Gateway control judged on a small estate built in TEST_REGION: an alarm and an ok case for
each (skip and info where the control defines them), the result contract over every control, the
planner's one-call-per-operation promise, and parameters.

The estate is built once for the module through plain boto3 clients to the sandbox. Each case below
names a resource of that estate and the status its control must give it.
"""
from __future__ import annotations

import collections
import datetime as dt
import json
from typing import Any, Iterator

import pytest

import apigw_sql
from apigw_sql.controls import load_controls, run_controls

try:
    from conftest import TEST_REGION
except ImportError:  # run from another directory
    TEST_REGION = "ap-southeast-2"

R = TEST_REGION
ACCOUNT = "123456789012"
JWT_LIKE = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjdGwtdGVzdCJ9.c2lnbmF0dXJlLW5vdC1yZWFs"
COMPLETE_FORMAT = ('{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",'
                   '"requestTime":"$context.requestTime","httpMethod":"$context.httpMethod",'
                   '"resourcePath":"$context.resourcePath","routeKey":"$context.routeKey",'
                   '"caller":"$context.identity.caller","status":"$context.status"}')
LINKED_TABLES = {"apigateway_stage_waf_known_bad_inputs": "aws_wafv2_web_acl",
                 "apigateway_domain_name_certificate_not_expiring": "aws_acm_certificate"}


def _patch(*ops: tuple[str, str, Any]) -> list[dict[str, str]]:
    return [{"op": "replace", "path": path, "value": str(value)} for _, path, value in ops]


def _arn(path: str) -> str:
    return f"arn:aws:apigateway:{R}::{path}"


class Estate:
    """Builds the resources and remembers their ARNs under short keys (A.weak, G.route.open, ...)."""

    def __init__(self, sandbox: Any):
        self.sandbox = sandbox
        self.ag = sandbox.client("apigateway", R)
        self.v2 = sandbox.client("apigatewayv2", R)
        self.arn: dict[str, str] = {}
        self.undo: list[Any] = []  # deletions, run in reverse at teardown: TEST_REGION is shared with other modules

    def cleanup(self) -> None:
        import botocore.exceptions

        for undo in reversed(self.undo):
            try:
                undo()
            except botocore.exceptions.ClientError:
                pass

    # REST helpers
    def rest_api(self, key: str, name: str, endpoint: str, **kwargs: Any) -> tuple[str, str]:
        api = self.ag.create_rest_api(name=name, endpointConfiguration={"types": [endpoint]}, **kwargs)
        self.undo.append(lambda: self.ag.delete_rest_api(restApiId=api["id"]))
        self.arn[key] = _arn(f"/restapis/{api['id']}")
        return api["id"], api["rootResourceId"]

    def method(self, key: str, api: str, parent: str, part: str | None, verb: str, auth: str, uri: str | None,
               **kwargs: Any) -> str:
        resource = self.ag.create_resource(restApiId=api, parentId=parent, pathPart=part)["id"] if part else parent
        self.ag.put_method(restApiId=api, resourceId=resource, httpMethod=verb, authorizationType=auth, **kwargs)
        if uri:
            self.ag.put_integration(restApiId=api, resourceId=resource, httpMethod=verb, type="HTTP",
                                    integrationHttpMethod=verb, uri=uri)
        else:
            self.ag.put_integration(restApiId=api, resourceId=resource, httpMethod=verb, type="MOCK")
        self.arn[key] = _arn(f"/restapis/{api}/resources/{resource}/methods/{verb}")
        return resource

    def stage(self, key: str, api: str, name: str, patches: list[dict[str, str]] = (), **kwargs: Any) -> str:
        deployment = self.ag.create_deployment(restApiId=api)["id"]
        self.ag.create_stage(restApiId=api, stageName=name, deploymentId=deployment, **kwargs)
        if patches:
            self.ag.update_stage(restApiId=api, stageName=name, patchOperations=list(patches))
        self.arn[key] = _arn(f"/restapis/{api}/stages/{name}")
        return self.arn[key]

    # v2 helpers
    def v2_api(self, key: str, name: str, protocol: str, **kwargs: Any) -> str:
        if protocol == "WEBSOCKET":
            kwargs.setdefault("RouteSelectionExpression", "$request.body.action")
        api = self.v2.create_api(Name=name, ProtocolType=protocol, **kwargs)["ApiId"]
        self.undo.append(lambda: self.v2.delete_api(ApiId=api))
        self.arn[key] = _arn(f"/apis/{api}")
        return api

    def route(self, key: str, api: str, route_key: str, auth: str = "NONE", **kwargs: Any) -> None:
        route = self.v2.create_route(ApiId=api, RouteKey=route_key, AuthorizationType=auth, **kwargs)["RouteId"]
        self.arn[key] = _arn(f"/apis/{api}/routes/{route}")

    def integration(self, key: str, api: str, **kwargs: Any) -> str:
        integration = self.v2.create_integration(ApiId=api, **kwargs)["IntegrationId"]
        self.arn[key] = _arn(f"/apis/{api}/integrations/{integration}")
        return integration

    def v2_stage(self, key: str, api: str, name: str, **kwargs: Any) -> None:
        self.v2.create_stage(ApiId=api, StageName=name, **kwargs)
        self.arn[key] = _arn(f"/apis/{api}/stages/{name}")

    def jwt(self, key: str, api: str, audience: list[str], issuer: str) -> str:
        authorizer = self.v2.create_authorizer(ApiId=api, Name=key, AuthorizerType="JWT",
                                               IdentitySource=["$request.header.Authorization"],
                                               JwtConfiguration={"Audience": audience, "Issuer": issuer})["AuthorizerId"]
        self.arn[key] = _arn(f"/apis/{api}/authorizers/{authorizer}")
        return authorizer

    def certificate(self, domain: str, days: int) -> str:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
        now = dt.datetime.now(dt.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
                .not_valid_after(now + dt.timedelta(days=days)).sign(key, hashes.SHA256()))
        acm = self.sandbox.client("acm", R)
        arn = acm.import_certificate(
            Certificate=cert.public_bytes(serialization.Encoding.PEM),
            PrivateKey=key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()))["CertificateArn"]
        self.undo.append(lambda: acm.delete_certificate(CertificateArn=arn))
        return arn

    def web_acl(self, name: str, known_bad_inputs: bool, count_only: bool = False) -> str:
        visibility = {"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": name}
        group = "AWSManagedRulesKnownBadInputsRuleSet" if known_bad_inputs else "AWSManagedRulesCommonRuleSet"
        override = {"Count": {}} if count_only else {"None": {}}
        rules = [{"Name": group, "Priority": 0, "OverrideAction": override, "VisibilityConfig": visibility,
                  "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": group}}}]
        waf = self.sandbox.client("wafv2", R)
        summary = waf.create_web_acl(Name=name, Scope="REGIONAL", DefaultAction={"Allow": {}}, Rules=rules,
                                     VisibilityConfig=visibility)["Summary"]
        self.undo.append(lambda: waf.delete_web_acl(Name=name, Scope="REGIONAL", Id=summary["Id"],
                                                    LockToken=waf.get_web_acl(Name=name, Scope="REGIONAL",
                                                                              Id=summary["Id"])["LockToken"]))
        return summary["ARN"]


def build_estate(sandbox: Any) -> Estate:
    e = Estate(sandbox)
    ag, v2 = e.ag, e.v2
    waf = sandbox.client("wafv2", R)
    good_acl, weak_acl = e.web_acl("ctl-good-acl", True), e.web_acl("ctl-weak-acl", False)
    good_cert = ag.generate_client_certificate(description="ctl-good-backend")["clientCertificateId"]
    e.arn["cert.good"] = _arn(f"/clientcertificates/{good_cert}")
    old_cert = ag.generate_client_certificate(description="ctl-expiring")["clientCertificateId"]
    for cert_id in (good_cert, old_cert):
        e.undo.append(lambda cert_id=cert_id: ag.delete_client_certificate(clientCertificateId=cert_id))
    sandbox.backdate("client-certificate", old_cert, 350, region=R)
    e.arn["cert.expiring"] = _arn(f"/clientcertificates/{old_cert}")

    # A: a weak, internet-facing REST API with a public policy.
    public_policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}]})
    a, a_root = e.rest_api("A", "ctl-open", "REGIONAL", policy=public_policy)
    items = e.method("A.get", a, a_root, "items", "GET", "NONE", "http://backend.example/items",
                     apiKeyRequired=True, requestParameters={"method.request.querystring.q": True})
    e.method("A.options", a, items, None, "OPTIONS", "NONE", None)
    params_only = ag.create_request_validator(restApiId=a, name="params-only", validateRequestParameters=True)["id"]
    e.method("A.post", a, items, None, "POST", "AWS_IAM", "https://backend.example/items",
             requestModels={"application/json": "Empty"}, requestValidatorId=params_only)
    e.stage("A.weak", a, "weak", _patch(
        ("", "/*/*/logging/loglevel", "ERROR"), ("", "/~1items/GET/logging/loglevel", "OFF"),
        ("", "/*/*/logging/dataTrace", "true"), ("", "/*/*/caching/enabled", "true"),
        ("", "/*/*/caching/dataEncrypted", "false"), ("", "/*/*/throttling/rateLimit", "20000"),
        ("", "/*/*/throttling/burstLimit", "9000")),
        cacheClusterEnabled=True, cacheClusterSize="0.5", variables={"db_password": "Xy9#kLm2$pQ7vR4t"})
    e.stage("A.bare", a, "bare")
    waf.associate_web_acl(WebACLArn=weak_acl, ResourceArn=e.arn["A.bare"])

    # B: a hardened REST API, served only through a custom domain.
    ip_policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*",
         "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}]})
    b, b_root = e.rest_api("B", "ctl-good", "REGIONAL", policy=ip_policy, disableExecuteApiEndpoint=True)
    token = ag.create_authorizer(restApiId=b, name="ctl-token", type="TOKEN",
                                 authorizerUri=f"arn:aws:apigateway:{R}:lambda:path/2015-03-31/functions/"
                                               f"arn:aws:lambda:{R}:{ACCOUNT}:function:auth/invocations",
                                 identitySource="method.request.header.Authorization")["id"]
    validator = ag.create_request_validator(restApiId=b, name="all", validateRequestParameters=True,
                                            validateRequestBody=True)["id"]
    e.method("B.get", b, b_root, "orders", "GET", "CUSTOM", "https://backend.example/orders", authorizerId=token,
             requestParameters={"method.request.querystring.id": True}, requestValidatorId=validator)
    e.stage("B.prod", b, "prod", _patch(
        ("", "/clientCertificateId", good_cert), ("", "/*/*/logging/loglevel", "INFO"),
        ("", "/*/*/logging/dataTrace", "false"), ("", "/*/*/metrics/enabled", "true"),
        ("", "/*/*/caching/enabled", "true"), ("", "/*/*/caching/dataEncrypted", "true"),
        ("", "/*/*/throttling/rateLimit", "100"), ("", "/*/*/throttling/burstLimit", "50"),
        ("", "/accessLogSettings/destinationArn", f"arn:aws:logs:{R}:{ACCOUNT}:log-group:ctl-good"),
        ("", "/accessLogSettings/format", COMPLETE_FORMAT)),
        tracingEnabled=True, cacheClusterEnabled=True, cacheClusterSize="0.5", variables={"backendHost": "orders.internal"})
    waf.associate_web_acl(WebACLArn=good_acl, ResourceArn=e.arn["B.prod"])

    # C: PRIVATE without a resource policy; D: PRIVATE with the allow-then-deny-other-endpoints pattern.
    c, c_root = e.rest_api("C", "ctl-private-open", "PRIVATE")
    e.method("C.get", c, c_root, "x", "GET", "NONE", None)
    vpce_policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"},
        {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*",
         "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-0123456789abcdef0"}}}]})
    d, d_root = e.rest_api("D", "ctl-private-ok", "PRIVATE", policy=vpce_policy)
    e.method("D.get", d, d_root, "x", "GET", "AWS_IAM", None)
    # E: EDGE, every method AWS_IAM and no authorizer object, mapped from a domain but still on execute-api.
    api_e, e_root = e.rest_api("E", "ctl-edge-iam", "EDGE")
    e.method("E.get", api_e, e_root, "health", "GET", "AWS_IAM", None)
    e.stage("E.prod", api_e, "prod")
    waf.associate_web_acl(WebACLArn=e.web_acl("ctl-count-acl", True, count_only=True), ResourceArn=e.arn["E.prod"])
    # F: no methods at all.
    e.rest_api("F", "ctl-empty", "REGIONAL")

    # Domains
    for name in ("ctl-good.example", "ctl-bypass.example", "ctl-pq.example"):
        e.undo.append(lambda name=name: ag.delete_domain_name(domainName=name))
    ag.create_domain_name(domainName="ctl-good.example", regionalCertificateArn=e.certificate("ctl-good.example", 365),
                          endpointConfiguration={"types": ["REGIONAL"]}, securityPolicy="TLS_1_2",
                          mutualTlsAuthentication={"truststoreUri": "s3://ctl-truststore/good.pem"})
    ag.create_base_path_mapping(domainName="ctl-good.example", restApiId=b, stage="prod")
    ag.create_domain_name(domainName="ctl-bypass.example", regionalCertificateArn=e.certificate("ctl-bypass.example", 10),
                          endpointConfiguration={"types": ["REGIONAL"]}, securityPolicy="TLS_1_0",
                          mutualTlsAuthentication={"truststoreUri": "s3://ctl-truststore/bypass.pem"})
    ag.create_base_path_mapping(domainName="ctl-bypass.example", restApiId=api_e, stage="prod")
    sandbox.set_truststore_warnings("ctl-bypass.example", ["The certificate CN=Old CA in the truststore expired."],
                                    region=R)
    ag.create_domain_name(domainName="ctl-pq.example", regionalCertificateArn=e.certificate("ctl-pq.example", 365),
                          endpointConfiguration={"types": ["REGIONAL"]},
                          securityPolicy="SecurityPolicy_TLS13_1_2_PQ_2025_09")
    for name in ("ctl-good.example", "ctl-bypass.example", "ctl-pq.example"):
        e.arn[f"domain.{name}"] = _arn(f"/domainnames/{name}")

    # G: a weak HTTP API; H: a hardened one behind a custom domain; I: an HTTP API without routes or CORS.
    link = v2.create_vpc_link(Name="ctl-link", SubnetIds=["subnet-0a1b2c3d4e5f60001"])["VpcLinkId"]
    e.undo.append(lambda: v2.delete_vpc_link(VpcLinkId=link))
    g = e.v2_api("G", "ctl-http-open", "HTTP", CorsConfiguration={"AllowOrigins": ["*"], "AllowCredentials": True})
    g_http = e.integration("G.int.http", g, IntegrationType="HTTP_PROXY", IntegrationMethod="ANY",
                           IntegrationUri="http://backend.example/open", PayloadFormatVersion="1.0")
    e.integration("G.int.link", g, IntegrationType="HTTP_PROXY", IntegrationMethod="ANY", ConnectionType="VPC_LINK",
                  ConnectionId=link, PayloadFormatVersion="1.0",
                  IntegrationUri=f"arn:aws:elasticloadbalancing:{R}:{ACCOUNT}:listener/app/ctl/1/2")
    g_jwt = e.jwt("G.jwt", g, [], "https://issuer.example.com/")
    e.route("G.route.open", g, "GET /open", Target=f"integrations/{g_http}")
    e.route("G.route.options", g, "OPTIONS /open")
    e.route("G.route.jwt", g, "POST /jwt", "JWT", AuthorizerId=g_jwt)
    e.v2_stage("G.stage", g, "$default", AutoDeploy=True)

    h = e.v2_api("H", "ctl-http-good", "HTTP", DisableExecuteApiEndpoint=True,
                 CorsConfiguration={"AllowOrigins": ["https://app.example.com"]})
    e.integration("H.int.https", h, IntegrationType="HTTP_PROXY", IntegrationMethod="ANY",
                  IntegrationUri="https://backend.example/good", PayloadFormatVersion="1.0")
    e.integration("H.int.link", h, IntegrationType="HTTP_PROXY", IntegrationMethod="ANY", ConnectionType="VPC_LINK",
                  ConnectionId=link, PayloadFormatVersion="1.0",
                  IntegrationUri=f"arn:aws:elasticloadbalancing:{R}:{ACCOUNT}:listener/app/ctl/3/4",
                  TlsConfig={"ServerNameToVerify": "backend.internal.example"})
    e.jwt("H.jwt", h, ["ctl-client"], "https://issuer.example.com/")
    e.route("H.route", h, "GET /a", "AWS_IAM")
    e.v2_stage("H.stage", h, "prod", AccessLogSettings={
        "DestinationArn": f"arn:aws:logs:{R}:{ACCOUNT}:log-group:ctl-http", "Format": COMPLETE_FORMAT},
        DefaultRouteSettings={"DetailedMetricsEnabled": True, "ThrottlingRateLimit": 100.0, "ThrottlingBurstLimit": 50})
    v2.create_domain_name(DomainName="ctl-http.example", DomainNameConfigurations=[{
        "CertificateArn": e.certificate("ctl-http.example", 365), "EndpointType": "REGIONAL",
        "SecurityPolicy": "TLS_1_2"}])
    mapping = v2.create_api_mapping(DomainName="ctl-http.example", ApiId=h, Stage="prod")["ApiMappingId"]
    e.undo.append(lambda: v2.delete_domain_name(DomainName="ctl-http.example"))
    # moto 5.2.5 fails DeleteDomainName while the domain still has mappings: remove the mapping first.
    e.undo.append(lambda: v2.delete_api_mapping(DomainName="ctl-http.example", ApiMappingId=mapping))
    e.arn["domain.ctl-http.example"] = _arn("/domainnames/ctl-http.example")
    e.v2_api("I", "ctl-http-empty", "HTTP")

    # J: a weak WebSocket API; K: a hardened one.
    j = e.v2_api("J", "ctl-ws-open", "WEBSOCKET")
    e.route("J.connect", j, "$connect")
    e.route("J.default", j, "$default")
    e.integration("J.int.link", j, IntegrationType="HTTP_PROXY", IntegrationMethod="POST", ConnectionType="VPC_LINK",
                  ConnectionId="ctl-rest-link", IntegrationUri="http://nlb.internal.example/ws")
    e.v2_stage("J.stage", j, "prod", StageVariables={"botToken": JWT_LIKE},
               DefaultRouteSettings={"LoggingLevel": "OFF", "DataTraceEnabled": True})
    k = e.v2_api("K", "ctl-ws-good", "WEBSOCKET")
    e.route("K.connect", k, "$connect", "AWS_IAM")
    e.v2_stage("K.stage", k, "prod", AccessLogSettings={
        "DestinationArn": f"arn:aws:logs:{R}:{ACCOUNT}:log-group:ctl-ws", "Format": "$context.requestId $context.status"},
        DefaultRouteSettings={"LoggingLevel": "INFO", "DataTraceEnabled": False, "DetailedMetricsEnabled": True,
                              "ThrottlingRateLimit": 50.0, "ThrottlingBurstLimit": 20},
        RouteSettings={"$connect": {"LoggingLevel": "ERROR"}})

    # Keys, plans
    old_key = ag.create_api_key(name="ctl-key-old", enabled=True)["id"]
    sandbox.backdate("api-key", old_key, 200, region=R)
    new_key = ag.create_api_key(name="ctl-key-new", enabled=True)["id"]
    off_key = ag.create_api_key(name="ctl-key-off", enabled=False)["id"]
    good_plan = ag.create_usage_plan(name="ctl-plan-good", throttle={"rateLimit": 10.0, "burstLimit": 20},
                                     quota={"limit": 1000, "period": "DAY"})["id"]
    bare_plan = ag.create_usage_plan(name="ctl-plan-bare")["id"]
    ag.create_usage_plan_key(usagePlanId=good_plan, keyId=new_key, keyType="API_KEY")
    for key_id in (old_key, new_key, off_key):
        e.undo.append(lambda key_id=key_id: ag.delete_api_key(apiKey=key_id))
    for plan_id in (good_plan, bare_plan):
        e.undo.append(lambda plan_id=plan_id: ag.delete_usage_plan(usagePlanId=plan_id))
    e.arn.update({"key.old": _arn(f"/apikeys/{old_key}"), "key.new": _arn(f"/apikeys/{new_key}"),
                  "key.off": _arn(f"/apikeys/{off_key}"), "plan.good": _arn(f"/usageplans/{good_plan}"),
                  "plan.bare": _arn(f"/usageplans/{bare_plan}"), "account": _arn("/account")})
    return e


# (control, estate key, expected status); the control's alarm, ok, skip and info cases.
CASES = [
    ("apigateway_stage_execution_logging_enabled", "A.weak", "alarm"),   # an override turns logging off
    ("apigateway_stage_execution_logging_enabled", "A.bare", "alarm"),   # no method settings: OFF
    ("apigateway_stage_execution_logging_enabled", "J.stage", "alarm"),
    ("apigateway_stage_execution_logging_enabled", "B.prod", "ok"),
    ("apigateway_stage_execution_logging_enabled", "K.stage", "ok"),
    ("apigateway_stage_client_certificate_configured", "A.weak", "alarm"),
    ("apigateway_stage_client_certificate_configured", "B.prod", "ok"),
    ("apigateway_stage_xray_tracing_enabled", "A.weak", "alarm"),
    ("apigateway_stage_xray_tracing_enabled", "B.prod", "ok"),
    ("apigateway_stage_waf_associated", "A.weak", "alarm"),
    ("apigateway_stage_waf_associated", "A.bare", "ok"),
    ("apigateway_stage_waf_associated", "B.prod", "ok"),
    ("apigateway_stage_cache_encrypted", "A.weak", "alarm"),
    ("apigateway_stage_cache_encrypted", "B.prod", "ok"),
    ("apigateway_stage_cache_encrypted", "A.bare", "skip"),
    ("apigateway_stage_cache_enabled", "A.weak", "alarm"),
    ("apigateway_stage_cache_enabled", "A.bare", "alarm"),
    ("apigateway_stage_cache_enabled", "B.prod", "ok"),
    ("apigateway_stage_access_logging_enabled", "A.weak", "alarm"),
    ("apigateway_stage_access_logging_enabled", "B.prod", "ok"),
    ("apigatewayv2_stage_access_logging_enabled", "G.stage", "alarm"),
    ("apigatewayv2_stage_access_logging_enabled", "J.stage", "alarm"),
    ("apigatewayv2_stage_access_logging_enabled", "H.stage", "ok"),
    ("apigatewayv2_stage_access_logging_enabled", "K.stage", "ok"),
    ("apigateway_stage_data_trace_disabled", "A.weak", "alarm"),
    ("apigateway_stage_data_trace_disabled", "J.stage", "alarm"),
    ("apigateway_stage_data_trace_disabled", "B.prod", "ok"),
    ("apigateway_stage_data_trace_disabled", "K.stage", "ok"),
    ("apigateway_stage_detailed_metrics_enabled", "A.weak", "alarm"),
    ("apigateway_stage_detailed_metrics_enabled", "G.stage", "alarm"),
    ("apigateway_stage_detailed_metrics_enabled", "B.prod", "ok"),
    ("apigateway_stage_detailed_metrics_enabled", "H.stage", "ok"),
    ("apigateway_stage_throttling_configured", "A.weak", "alarm"),      # above the account limits
    ("apigateway_stage_throttling_configured", "A.bare", "alarm"),      # none at all
    ("apigateway_stage_throttling_configured", "G.stage", "alarm"),
    ("apigateway_stage_throttling_configured", "B.prod", "ok"),
    ("apigateway_stage_throttling_configured", "H.stage", "ok"),
    ("apigateway_stage_variables_no_secrets", "A.weak", "alarm"),
    ("apigateway_stage_variables_no_secrets", "J.stage", "alarm"),
    ("apigateway_stage_variables_no_secrets", "B.prod", "ok"),
    ("apigateway_stage_access_log_format_complete", "K.stage", "alarm"),
    ("apigateway_stage_access_log_format_complete", "B.prod", "ok"),
    ("apigateway_stage_access_log_format_complete", "H.stage", "ok"),
    ("apigateway_stage_access_log_format_complete", "A.weak", "skip"),
    ("apigateway_stage_waf_known_bad_inputs", "A.bare", "alarm"),
    ("apigateway_stage_waf_known_bad_inputs", "E.prod", "alarm"),       # the rule group only counts
    ("apigateway_stage_waf_known_bad_inputs", "B.prod", "ok"),
    ("apigateway_stage_waf_known_bad_inputs", "A.weak", "skip"),
    ("apigateway_rest_api_endpoint_private", "A", "alarm"),
    ("apigateway_rest_api_endpoint_private", "E", "alarm"),
    ("apigateway_rest_api_endpoint_private", "C", "ok"),
    ("apigateway_rest_api_authorizers_configured", "A", "alarm"),
    ("apigateway_rest_api_authorizers_configured", "C", "alarm"),
    ("apigateway_rest_api_authorizers_configured", "B", "ok"),
    ("apigateway_rest_api_authorizers_configured", "E", "ok"),          # AWS_IAM and no authorizer object
    ("apigateway_rest_api_authorizers_configured", "F", "skip"),
    ("apigateway_rest_api_public_with_authorizer", "A", "alarm"),
    ("apigateway_rest_api_public_with_authorizer", "B", "ok"),
    ("apigateway_rest_api_public_with_authorizer", "E", "ok"),
    ("apigateway_rest_api_public_with_authorizer", "C", "skip"),        # PRIVATE
    ("apigateway_api_default_endpoint_disabled", "A", "alarm"),
    ("apigateway_api_default_endpoint_disabled", "G", "alarm"),
    ("apigateway_api_default_endpoint_disabled", "B", "ok"),
    ("apigateway_api_default_endpoint_disabled", "H", "ok"),
    ("apigateway_api_custom_domain_bypass", "E", "alarm"),
    ("apigateway_api_custom_domain_bypass", "B", "ok"),
    ("apigateway_api_custom_domain_bypass", "H", "ok"),
    ("apigateway_api_custom_domain_bypass", "A", "skip"),
    ("apigateway_rest_api_policy_no_public_access", "A", "alarm"),
    ("apigateway_rest_api_policy_no_public_access", "B", "ok"),
    ("apigateway_rest_api_policy_no_public_access", "D", "ok"),         # narrowed by a Deny on aws:SourceVpce
    ("apigateway_rest_api_policy_no_public_access", "C", "skip"),
    ("apigateway_private_api_policy_restricts_source", "C", "alarm"),
    ("apigateway_private_api_policy_restricts_source", "D", "ok"),
    ("apigateway_private_api_policy_restricts_source", "A", "skip"),
    ("apigateway_method_authorization_configured", "A.get", "alarm"),
    ("apigateway_method_authorization_configured", "B.get", "ok"),
    ("apigateway_method_authorization_configured", "A.options", "skip"),
    ("apigateway_method_api_key_not_sole_auth", "A.get", "alarm"),
    ("apigateway_method_api_key_not_sole_auth", "B.get", "ok"),
    ("apigateway_method_request_validation_enabled", "A.get", "alarm"),   # parameters, no validator
    ("apigateway_method_request_validation_enabled", "A.post", "alarm"),  # a model its validator ignores
    ("apigateway_method_request_validation_enabled", "B.get", "ok"),
    ("apigateway_method_request_validation_enabled", "A.options", "skip"),
    ("apigateway_integration_backend_https", "A.get", "alarm"),
    ("apigateway_integration_backend_https", "G.int.http", "alarm"),
    ("apigateway_integration_backend_https", "B.get", "ok"),
    ("apigateway_integration_backend_https", "H.int.https", "ok"),
    ("apigatewayv2_integration_private_tls_configured", "G.int.link", "alarm"),
    ("apigatewayv2_integration_private_tls_configured", "H.int.link", "ok"),
    ("apigatewayv2_integration_private_tls_configured", "J.int.link", "skip"),
    ("apigatewayv2_route_authorization_type_configured", "G.route.open", "alarm"),
    ("apigatewayv2_route_authorization_type_configured", "J.connect", "alarm"),
    ("apigatewayv2_route_authorization_type_configured", "G.route.jwt", "ok"),
    ("apigatewayv2_route_authorization_type_configured", "H.route", "ok"),
    ("apigatewayv2_route_authorization_type_configured", "K.connect", "ok"),
    ("apigatewayv2_route_authorization_type_configured", "G.route.options", "skip"),
    ("apigatewayv2_route_authorization_type_configured", "J.default", "skip"),
    ("apigatewayv2_api_authorizers_configured", "G", "alarm"),
    ("apigatewayv2_api_authorizers_configured", "J", "alarm"),
    ("apigatewayv2_api_authorizers_configured", "H", "ok"),
    ("apigatewayv2_api_authorizers_configured", "K", "ok"),
    ("apigatewayv2_api_authorizers_configured", "I", "skip"),
    ("apigatewayv2_api_cors_restricted", "G", "alarm"),
    ("apigatewayv2_api_cors_restricted", "H", "ok"),
    ("apigatewayv2_api_cors_restricted", "I", "ok"),
    ("apigatewayv2_authorizer_jwt_audience_configured", "G.jwt", "alarm"),
    ("apigatewayv2_authorizer_jwt_audience_configured", "H.jwt", "ok"),
    ("apigateway_domain_name_tls_policy_current", "domain.ctl-bypass.example", "alarm"),
    ("apigateway_domain_name_tls_policy_current", "domain.ctl-good.example", "ok"),
    ("apigateway_domain_name_tls_policy_current", "domain.ctl-http.example", "ok"),
    ("apigateway_domain_name_tls_policy_current", "domain.ctl-pq.example", "ok"),
    ("apigateway_domain_name_pqc_tls", "domain.ctl-good.example", "alarm"),
    ("apigateway_domain_name_pqc_tls", "domain.ctl-pq.example", "ok"),
    ("apigateway_domain_name_mtls_truststore_healthy", "domain.ctl-bypass.example", "alarm"),
    ("apigateway_domain_name_mtls_truststore_healthy", "domain.ctl-good.example", "ok"),
    ("apigateway_domain_name_mtls_truststore_healthy", "domain.ctl-pq.example", "skip"),
    ("apigateway_domain_name_certificate_not_expiring", "domain.ctl-bypass.example", "alarm"),
    ("apigateway_domain_name_certificate_not_expiring", "domain.ctl-good.example", "ok"),
    ("apigateway_client_certificate_not_expiring", "cert.expiring", "alarm"),
    ("apigateway_client_certificate_not_expiring", "cert.good", "ok"),
    ("apigateway_api_key_rotated", "key.old", "alarm"),
    ("apigateway_api_key_rotated", "key.new", "ok"),
    ("apigateway_api_key_rotated", "key.off", "skip"),
    ("apigateway_api_key_in_usage_plan", "key.old", "alarm"),
    ("apigateway_api_key_in_usage_plan", "key.new", "ok"),
    ("apigateway_api_key_in_usage_plan", "key.off", "skip"),
    ("apigateway_usage_plan_limits_configured", "plan.bare", "alarm"),
    ("apigateway_usage_plan_limits_configured", "plan.good", "ok"),
    ("apigateway_account_cloudwatch_role_configured", "account", "alarm"),  # ok: see the test below
]


@pytest.fixture(scope="module")
def estate(sandbox) -> Iterator[dict[str, str]]:
    built = build_estate(sandbox)
    try:
        yield built.arn
    finally:
        built.cleanup()


def _connect(sandbox: Any) -> apigw_sql.Connection:
    return apigw_sql.connect(endpoint_url=sandbox.endpoint_url, regions=[R], max_attempts=1, rate_limit=False)


@pytest.fixture(scope="module")
def run(sandbox, estate):
    """One run of the whole apigateway benchmark over TEST_REGION: (report, connection, {(control, arn): finding})."""
    con = _connect(sandbox)
    report = run_controls(con, ["apigateway"])
    findings = {(f.control.id, f.resource): f for f in report.findings}
    yield report, con, findings
    con.close()


def _missing_linked_table(control_id: str, con: apigw_sql.Connection) -> str | None:
    table = LINKED_TABLES.get(control_id)
    return table if table and table not in con.catalog else None


@pytest.mark.parametrize("control_id, key, expected", CASES, ids=[f"{c}-{k}-{s}" for c, k, s in CASES])
def test_control_judges_resource(run, estate, control_id, key, expected):
    report, con, findings = run
    missing = _missing_linked_table(control_id, con)
    if missing:
        pytest.skip(f"{control_id} reads {missing}, which this build does not have yet")
    finding = findings.get((control_id, estate[key]))
    assert finding is not None, f"{control_id} returned no row for {key} ({estate[key]})"
    assert finding.status == expected, finding.reason


def test_every_control_has_an_alarm_and_an_ok_case():
    covered = collections.defaultdict(set)
    for control_id, _, status in CASES:
        covered[control_id].add(status)
    ids = {c.id for c in load_controls() if c.home == "apigateway"}
    assert set(covered) == ids
    account = "apigateway_account_cloudwatch_role_configured"  # its ok case needs a second run
    assert [c for c in ids if c != account and not {"alarm", "ok"} <= covered[c]] == []


def test_result_contract_over_every_control(run):
    report, con, _ = run
    for result in report.results:
        if _missing_linked_table(result.control.id, con):
            assert result.error and "unknown table" in result.error
            continue
        assert result.error is None, f"{result.control.id}: {result.error}"
        for f in result.findings:
            assert f.status in ("ok", "alarm", "info", "skip", "error")
            assert f.reason.endswith(".") and f.reason[0].isupper(), f.reason
            name = f.resource.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
            assert name in f.reason, f"{result.control.id}: the reason does not name {name}: {f.reason}"
            assert f.account_id == ACCOUNT and f.region == R
            assert f.resource.startswith(f"arn:aws:apigateway:{R}::/")


def test_cors_with_credentials_raises_the_finding_to_high(run, estate):
    _, _, findings = run
    finding = findings[("apigatewayv2_api_cors_restricted", estate["G"])]
    assert (finding.status, finding.severity, finding.control.severity) == ("alarm", "high", "medium")


def test_secret_values_never_reach_the_reason(run, estate):
    _, _, findings = run
    reason = findings[("apigateway_stage_variables_no_secrets", estate["A.weak"])].reason
    assert "db_password" in reason and "Xy9#" not in reason


def test_one_call_per_operation_and_parameters_for_the_whole_benchmark(run):
    report, con, _ = run
    calls = collections.Counter((r.service, r.operation, r.region, r.params) for r in con.fetch_log)
    assert [k for k, n in calls.items() if n > 1] == []
    assert report.api_calls == len(con.fetch_log)


def test_parameters_change_the_verdict(sandbox, estate):
    con = _connect(sandbox)
    try:
        report = run_controls(con, ["apigateway_rest_api_endpoint_private", "apigateway_api_key_rotated",
                                    "apigateway_stage_waf_associated"],
                              {"allowed_endpoint_types": "PRIVATE,REGIONAL", "max_age_days": "365",
                               "allowed_web_acl_arns": "arn:aws:wafv2:nowhere"})
        status = {(f.control.id, f.resource): f.status for f in report.findings}
        assert status[("apigateway_rest_api_endpoint_private", estate["A"])] == "ok"
        assert status[("apigateway_rest_api_endpoint_private", estate["E"])] == "alarm"   # EDGE
        assert status[("apigateway_api_key_rotated", estate["key.old"])] == "ok"
        assert status[("apigateway_stage_waf_associated", estate["B.prod"])] == "alarm"   # not in the allow-list
        # The session's own variables are left as they were.
        assert con.duck.execute("SELECT getvariable('max_age_days')").fetchone() == (None,)
    finally:
        con.close()


def test_each_file_runs_as_is_with_the_header_defaults(sandbox, estate, run):
    """`apigw-sql query -f FILE` runs the file with no variable set: coalesce() supplies the header default."""
    report, _, _ = run
    con = _connect(sandbox)
    try:
        for result in report.results:
            if result.error:
                continue
            rows = con.sql(result.control.sql).dicts()
            assert sorted((r["resource"], r["status"]) for r in rows) == \
                sorted((f.resource, f.status) for f in result.findings), result.control.id
    finally:
        con.close()


def test_account_without_cloudwatch_role_is_ok_once_a_role_is_set(sandbox, estate):
    ag = sandbox.client("apigateway", R)
    ag.update_account(patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn",
                                        "value": f"arn:aws:iam::{ACCOUNT}:role/apigw-logs"}])
    try:
        con = _connect(sandbox)
        try:
            [finding] = run_controls(con, ["apigateway_account_cloudwatch_role_configured"]).findings
        finally:
            con.close()
        assert (finding.resource, finding.status) == (estate["account"], "ok")
    finally:
        ag.update_account(patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": ""}])
