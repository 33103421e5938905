"""The demo estate: a small online shop's API Gateway and CloudTrail setup, partly hardened, partly weak.

Account 123456789012, regions us-east-1 and eu-west-1. Every weakness below is there on purpose, so that
each control of shared/reference/controls.md has at least one `alarm` and, where it makes sense, one `ok`.

REST APIs (apigateway)
  us-east-1  orders-api          REGIONAL, execute-api endpoint disabled, mapped from api.shop.example
             (hardened)          methods COGNITO_USER_POOLS / CUSTOM (TOKEN) / AWS_IAM, OPTIONS NONE;
                                 request parameters with validators; https integrations; tagged.
             stage prod         logging INFO (+ per-method override ERROR), metrics, X-Ray, client certificate,
                                 WAF shop-prod-acl (has AWSManagedRulesKnownBadInputsRuleSet), cache encrypted,
                                 complete access log format, throttling 100/50.
             stage dev (weak)   override ~1orders~1{orderId}/GET turns logging OFF, data trace on, no access
                                 logs, cache unencrypted, variable db_password, no tracing; its client
                                 certificate was removed and a web ACL disassociated (CloudTrail events).
  us-east-1  payments-api        EDGE, execute-api endpoint enabled and mapped from pay.shop.example (bypass);
             (weak)              resource policy Allow Principal * with no condition (set by UpdateRestApi);
                                 POST /payments NONE + apiKeyRequired (API key as sole auth) on http://;
                                 POST /refunds with request parameters and no validator; a REQUEST authorizer
                                 no method uses; a deleted authorizer (DeleteAuthorizer event).
             stage prod         logging INFO but override ~1payments/POST OFF (an UpdateStage event), data
                                 trace on, cache unencrypted, variable stripeAccessKeyId=AKIA..., WAF
                                 payments-acl without Known Bad Inputs, no access logs, no tracing, no cert.
  us-east-1  internal-inventory  PRIVATE, policy restricted by aws:SourceVpce; AWS_IAM methods; VPC_LINK
             (hardened)          integration; stage prod: logging ERROR, tracing, cert, access logs, no cache.
  us-east-1  legacy-reports      PRIVATE without a resource policy; GET /reports NONE on http://;
             (weak)              stage v1 with no method settings at all (no execution logging); its access
                                 logs (CLF) are added by seed_usage.py.
  eu-west-1  partner-gateway     REGIONAL, policy restricted by aws:SourceIp; CUSTOM (REQUEST) methods;
                                 mapped from partners.shop.example (TLS_1_0) with execute-api enabled (bypass).
             stage live         logging INFO, tracing, throttling, access log format incomplete (no source
                                 IP, no caller); no WAF, no client certificate. eu-west-1's GetAccount has no
                                 CloudWatch role (it was cleared: an UpdateAccount event).

HTTP and WebSocket APIs (apigatewayv2)
  us-east-1  storefront-http     CORS AllowOrigins * with credentials; GET /products NONE, POST /cart JWT
                                 (authorizer with an empty audience), OPTIONS /cart NONE, GET /admin AWS_IAM;
                                 HTTP_PROXY on http://; VPC_LINK without TlsConfig; stage $default without
                                 access logs; mapped from www-api.shop.example, execute-api enabled (bypass).
  us-east-1  checkout-http       CORS restricted to https://shop.example; JWT (https issuer, audience) and
             (hardened)          CUSTOM routes, OPTIONS NONE; VPC_LINK with TlsConfig; stage prod with complete
                                 access logs and throttling; execute-api disabled; mapped from
                                 checkout.shop.example (mutual TLS with planted truststore warnings).
  eu-west-1  chat                WEBSOCKET, $connect NONE; stage prod logging OFF, data trace on, no access
             (weak)              logs, a JWT-looking stage variable.
  eu-west-1  support-chat        WEBSOCKET, $connect CUSTOM; stage prod logging INFO, access logs, throttling.
  eu-west-1  partner-events-http JWT authorizer with an http:// issuer; GET /health NONE; stage live with
                                 an incomplete access log format; execute-api enabled, not mapped.

Domains, keys, plans, certificates, account
  api.shop.example (REST, us-east-1, REGIONAL, TLS_1_2, mutual TLS, no warnings) -> orders-api/prod
  pay.shop.example (REST, us-east-1, EDGE, TLS_1_0, imported ACM certificate expiring in 10 days) -> payments-api
  partners.shop.example (REST, eu-west-1, REGIONAL, TLS_1_0) -> partner-gateway/live
  www-api.shop.example (v2, us-east-1, TLS_1_2) -> storefront-http; checkout.shop.example (v2, mTLS) -> checkout-http
  API keys: checkout-service-key (in payments-free), partner-acme-key (in partner-gold), mobile-app-key (enabled,
  in no plan, created by the root user), partner-legacy-key (eu-west-1, enabled, in no plan, 400 days old),
  reports-batch-key (disabled).
  Usage plans: payments-free (no throttle, no quota), partner-gold (throttle and quota), orders-standard (both).
  Client certificates: orders-prod-backend, inventory-backend (in use), partner-gateway-legacy (eu-west-1,
  unused, expires in 15 days).
  GetAccount: us-east-1 has a CloudWatch role; eu-west-1 has none.

CloudTrail
  shop-org-trail     us-east-1, multi-region, logging, validation, KMS, CloudWatch Logs, SNS, insights, tagged,
                     default event selectors; bucket shop-cloudtrail-123456789012 (public access block, access
                     logging, versioning, object lock).
  legacy-audit-trail us-east-1, single region, stopped (a StopLogging event), no validation, no KMS, a planted
                     LatestDeliveryError; bucket shop-legacy-trail-123456789012.
  eu-apps-trail      eu-west-1, single region, logging, no validation, no KMS, write-only event selectors
                     (a PutEventSelectors event), untagged; bucket shop-eu-trail-123456789012 with a public-read
                     ACL and no public access block.

Usage (seed_usage.py): eight days of access logs in CloudWatch Logs for orders-api/prod (JSON),
legacy-reports/v1 (CLF) and checkout-http/prod (JSON), with a daily rhythm and planted anomalies (an error
spike and an authorization-failure burst on orders-api, a new high-volume source and an open method in use on
legacy-reports), and matching AWS/ApiGateway metrics (payments-api/prod fails 12% of its requests with 5xx
over the last day). The other stages' log groups do not exist.

Activity recorded while seeding (LookupEvents, besides every create call): the UpdateStage, UpdateRestApi,
DeleteAuthorizer, DisassociateWebACL, UpdateAccount, StopLogging and PutEventSelectors calls above; GetApiKeys
with includeValues=true and GetApiKey with includeValue=true; CreateApiKey by the root user (access key
ROOTACCESSKEY); and 12 AccessDeniedException errors on GetRestApis in eu-west-1 from access key
AKIASANDBOXPROBE0001.

Organization (apigw_sql/sandbox/seed_accounts.py): this account is the management account of an
organization with one member account, 210987654321, which has a small weak estate of its own.

IAM (apigw_sql/sandbox/seed_iam.py): an admin role with AmazonAPIGatewayAdministrator, a CI user with
apigateway:* on *, a role that may invoke every API, well-scoped deployer and invoker roles, a boundary-capped
developer role, a group-inherited admin, and CloudTrail history in which some of them wrote and some never did.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from .cloudtrail_event import ROOT_ACCESS_KEY_ID
from .sandbox import DEMO_ACCOUNT_ID, DEMO_REGIONS, control_request, make_client
from .seed_accounts import seed_accounts
from .seed_iam import seed_iam
from .seed_usage import seed_usage

if TYPE_CHECKING:
    from .sandbox import Sandbox

US, EU = DEMO_REGIONS
ACCOUNT = DEMO_ACCOUNT_ID
PROBE_ACCESS_KEY_ID = "AKIASANDBOXPROBE0001"
FAKE_AWS_KEY = "AKIASANDBOXDEMO00001"  # looks like an access key id: the stage-variable secret check must fire
DB_PASSWORD = "Sup3rS3cr3t-2024!"
JWT_LIKE = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJjaGF0LWJvdCIsImlhdCI6MTcwMDAwMDAwMH0."
            "c2FuZGJveC1zaWduYXR1cmUtbm90LXJlYWw")

ACCESS_LOG_REST = json.dumps({
    "requestId": "$context.requestId", "ip": "$context.identity.sourceIp", "caller": "$context.identity.caller",
    "user": "$context.identity.user", "requestTime": "$context.requestTime", "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath", "status": "$context.status", "protocol": "$context.protocol",
    "responseLength": "$context.responseLength"})
ACCESS_LOG_V2 = json.dumps({
    "requestId": "$context.requestId", "ip": "$context.identity.sourceIp", "caller": "$context.identity.caller",
    "user": "$context.identity.user", "requestTime": "$context.requestTime", "routeKey": "$context.routeKey",
    "status": "$context.status"})
ACCESS_LOG_INCOMPLETE = "$context.requestId $context.httpMethod $context.resourcePath $context.status"


def _lambda_uri(region: str, function: str) -> str:
    return (f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/"
            f"arn:aws:lambda:{region}:{ACCOUNT}:function:{function}/invocations")


def _log_group_arn(region: str, name: str) -> str:
    return f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{name}"


def _policy(statement: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _patch(*ops: tuple[str, str, str | None]) -> list[dict[str, str]]:
    return [{"op": op, "path": path, **({"value": value} if value is not None else {})} for op, path, value in ops]


class _Seeder:
    """Creates the estate through plain boto3 clients, so every call is also recorded by the sandbox."""

    def __init__(self, endpoint_url: str) -> None:
        self.endpoint_url = endpoint_url
        self._clients: dict[tuple[str, str, str], Any] = {}
        self.estate: dict[str, Any] = {region: {"rest_apis": {}, "http_apis": {}, "websocket_apis": {},
                                                "trails": {}, "api_keys": {}, "usage_plans": {},
                                                "client_certificates": {}, "domain_names": [],
                                                "web_acls": {}, "certificates": {}}
                                       for region in DEMO_REGIONS}

    def client(self, service: str, region: str = US, access_key_id: str = "testing") -> Any:
        key = (service, region, access_key_id)
        if key not in self._clients:
            self._clients[key] = make_client(self.endpoint_url, service, region, access_key_id)
        return self._clients[key]

    def control(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return control_request(self.endpoint_url, "POST", path, body)

    # Shared infrastructure

    @staticmethod
    def network(region: str) -> dict[str, Any]:
        """The shop's VPC ids. Not created in EC2: moto's EC2 costs seconds to load and no control reads it."""
        return {"vpc": "vpc-0a1b2c3d4e5f60718", "subnets": ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"],
                "security_group": "sg-0a1b2c3d4e5f60718", "vpce": "vpce-0a1b2c3d4e5f60718"}

    def certificate(self, region: str, domain: str, requested: bool = False) -> str:
        """An ACM certificate for `domain`: requested from ACM, or (faster in moto) imported, valid a year."""
        if not requested:
            return self.imported_certificate(region, domain, days=365)
        arn = self.client("acm", region).request_certificate(DomainName=domain, ValidationMethod="DNS")[
            "CertificateArn"]
        self.estate[region]["certificates"][domain] = arn
        return arn

    def imported_certificate(self, region: str, domain: str, days: int) -> str:
        """An imported self-signed certificate that expires in `days` days."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
        now = dt.datetime.now(dt.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=365 - days))
                .not_valid_after(now + dt.timedelta(days=days))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
                .sign(key, hashes.SHA256()))
        arn = self.client("acm", region).import_certificate(
            Certificate=cert.public_bytes(serialization.Encoding.PEM),
            PrivateKey=key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()))["CertificateArn"]
        self.estate[region]["certificates"][domain] = arn
        return arn

    def web_acl(self, region: str, name: str, known_bad_inputs: bool) -> str:
        visibility = {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True}
        groups = ["AWSManagedRulesCommonRuleSet"] + (["AWSManagedRulesKnownBadInputsRuleSet"] if known_bad_inputs
                                                     else [])
        rules: list[dict[str, Any]] = [
            {"Name": group, "Priority": i, "OverrideAction": {"None": {}},
             "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": group}},
             "VisibilityConfig": {**visibility, "MetricName": group}} for i, group in enumerate(groups)]
        rules.append({"Name": "rate-limit", "Priority": len(rules), "Action": {"Block": {}},
                      "Statement": {"RateBasedStatement": {"Limit": 2000, "AggregateKeyType": "IP"}},
                      "VisibilityConfig": {**visibility, "MetricName": "rate-limit"}})
        arn = self.client("wafv2", region).create_web_acl(
            Name=name, Scope="REGIONAL", DefaultAction={"Allow": {}}, Rules=rules,
            VisibilityConfig={**visibility, "MetricName": name})["Summary"]["ARN"]
        self.estate[region]["web_acls"][name] = arn
        return arn

    def client_certificate(self, region: str, description: str) -> str:
        cert_id = self.client("apigateway", region).generate_client_certificate(
            description=description, tags={"app": "shop"})["clientCertificateId"]
        self.estate[region]["client_certificates"][description] = cert_id
        return cert_id

    # REST building blocks

    def resource(self, region: str, api_id: str, parent_id: str, part: str) -> str:
        return str(self.client("apigateway", region).create_resource(restApiId=api_id, parentId=parent_id,
                                                                     pathPart=part)["id"])

    def method(self, region: str, api_id: str, resource_id: str, verb: str, auth: str,
               integration: dict[str, Any], **options: Any) -> None:
        ag = self.client("apigateway", region)
        ag.put_method(restApiId=api_id, resourceId=resource_id, httpMethod=verb, authorizationType=auth, **options)
        ag.put_integration(restApiId=api_id, resourceId=resource_id, httpMethod=verb, **integration)

    @staticmethod
    def http(uri: str, verb: str = "ANY", **extra: Any) -> dict[str, Any]:
        return {"type": "HTTP_PROXY", "integrationHttpMethod": verb, "uri": uri, **extra}

    MOCK: dict[str, Any] = {"type": "MOCK", "requestTemplates": {"application/json": '{"statusCode": 200}'}}

    def rest_api(self, region: str, name: str, endpoint_type: str, **options: Any) -> tuple[str, str]:
        api = self.client("apigateway", region).create_rest_api(
            name=name, endpointConfiguration={"types": [endpoint_type], **options.pop("endpoint", {})}, **options)
        self.estate[region]["rest_apis"][name] = api["id"]
        return str(api["id"]), str(api["rootResourceId"])

    def stage_arn(self, region: str, api_id: str, stage: str) -> str:
        return f"arn:aws:apigateway:{region}::/restapis/{api_id}/stages/{stage}"


def _orders_api(s: _Seeder, acl_arn: str, cert_id: str) -> str:
    region, ag = US, s.client("apigateway", US)
    api, root = s.rest_api(region, "orders-api", "REGIONAL", description="Customer orders",
                           disableExecuteApiEndpoint=True, tags={"team": "orders", "env": "prod"})
    pool = f"arn:aws:cognito-idp:{region}:{ACCOUNT}:userpool/{region}_ShopCustomers"
    cognito = ag.create_authorizer(restApiId=api, name="orders-cognito", type="COGNITO_USER_POOLS",
                                   providerARNs=[pool], identitySource="method.request.header.Authorization")["id"]
    token = ag.create_authorizer(restApiId=api, name="orders-token", type="TOKEN",
                                 authorizerUri=_lambda_uri(region, "shop-token-authorizer"),
                                 identitySource="method.request.header.Authorization",
                                 identityValidationExpression="^Bearer [-0-9A-Za-z._~+/]+=*$",
                                 authorizerResultTtlInSeconds=300)["id"]
    params_validator = ag.create_request_validator(restApiId=api, name="validate-params",
                                                   validateRequestParameters=True)["id"]
    body_validator = ag.create_request_validator(restApiId=api, name="validate-body", validateRequestBody=True,
                                                 validateRequestParameters=True)["id"]
    orders = s.resource(region, api, root, "orders")
    order = s.resource(region, api, orders, "{orderId}")
    backend = "https://orders.internal.shop.example"
    s.method(region, api, orders, "GET", "COGNITO_USER_POOLS", s.http(f"{backend}/orders", "GET"),
             authorizerId=cognito, authorizationScopes=["orders/read"])
    s.method(region, api, orders, "POST", "COGNITO_USER_POOLS", s.http(f"{backend}/orders", "POST"),
             authorizerId=cognito, requestValidatorId=body_validator,
             requestParameters={"method.request.header.Idempotency-Key": True})
    s.method(region, api, orders, "OPTIONS", "NONE", s.MOCK)
    s.method(region, api, order, "GET", "CUSTOM", s.http(f"{backend}/orders/{{orderId}}", "GET"),
             authorizerId=token, requestValidatorId=params_validator,
             requestParameters={"method.request.path.orderId": True})
    s.method(region, api, order, "DELETE", "AWS_IAM", s.http(f"{backend}/orders/{{orderId}}", "DELETE"),
             requestValidatorId=params_validator, requestParameters={"method.request.path.orderId": True})
    ag.put_gateway_response(restApiId=api, responseType="MISSING_AUTHENTICATION_TOKEN", statusCode="404",
                            responseTemplates={"application/json": '{"message": "Not found"}'})
    deployment = ag.create_deployment(restApiId=api, description="release 42")["id"]

    ag.create_stage(restApiId=api, stageName="prod", deploymentId=deployment, tracingEnabled=True,
                    cacheClusterEnabled=True, cacheClusterSize="0.5",
                    variables={"backendHost": "orders.internal.shop.example"}, tags={"env": "prod"})
    ag.update_stage(restApiId=api, stageName="prod", patchOperations=_patch(
        ("replace", "/clientCertificateId", cert_id),
        ("replace", "/*/*/logging/loglevel", "INFO"), ("replace", "/*/*/logging/dataTrace", "false"),
        ("replace", "/*/*/metrics/enabled", "true"),
        ("replace", "/*/*/throttling/rateLimit", "100"), ("replace", "/*/*/throttling/burstLimit", "50"),
        ("replace", "/*/*/caching/enabled", "true"), ("replace", "/*/*/caching/dataEncrypted", "true"),
        ("replace", "/~1orders/GET/logging/loglevel", "ERROR"),
        ("replace", "/~1orders/GET/caching/enabled", "true"),
        ("replace", "/~1orders/GET/caching/dataEncrypted", "true"),
        ("replace", "/accessLogSettings/destinationArn", _log_group_arn(region, "/aws/apigateway/orders-access")),
        ("replace", "/accessLogSettings/format", ACCESS_LOG_REST)))
    waf = s.client("wafv2", region)
    waf.associate_web_acl(WebACLArn=acl_arn, ResourceArn=s.stage_arn(region, api, "prod"))

    ag.create_stage(restApiId=api, stageName="dev", deploymentId=deployment, cacheClusterEnabled=True,
                    variables={"backendHost": "orders-dev.internal.shop.example", "db_password": DB_PASSWORD})
    ag.update_stage(restApiId=api, stageName="dev", patchOperations=_patch(
        ("replace", "/clientCertificateId", cert_id),
        ("replace", "/*/*/logging/loglevel", "ERROR"), ("replace", "/*/*/caching/enabled", "true"),
        ("replace", "/*/*/caching/dataEncrypted", "true")))
    waf.associate_web_acl(WebACLArn=acl_arn, ResourceArn=s.stage_arn(region, api, "dev"))
    # The weakening, as separate calls so that CloudTrail shows each one.
    ag.update_stage(restApiId=api, stageName="dev", patchOperations=_patch(
        ("replace", "/~1orders~1{orderId}/GET/logging/loglevel", "OFF")))
    ag.update_stage(restApiId=api, stageName="dev", patchOperations=_patch(
        ("replace", "/*/*/logging/dataTrace", "true"), ("replace", "/*/*/caching/dataEncrypted", "false")))
    ag.update_stage(restApiId=api, stageName="dev", patchOperations=_patch(("remove", "/clientCertificateId", None)))
    waf.disassociate_web_acl(ResourceArn=s.stage_arn(region, api, "dev"))

    s.control("backdate", {"kind": "client-certificate", "id": cert_id, "region": region, "days": 20})
    plan = ag.create_usage_plan(name="orders-standard", apiStages=[{"apiId": api, "stage": "prod"}],
                                throttle={"rateLimit": 50.0, "burstLimit": 100},
                                quota={"limit": 100000, "period": "MONTH"})["id"]
    s.estate[region]["usage_plans"]["orders-standard"] = plan
    return api


def _payments_api(s: _Seeder, acl_arn: str) -> str:
    region, ag = US, s.client("apigateway", US)
    api, root = s.rest_api(region, "payments-api", "EDGE", description="Card payments (legacy)",
                           tags={"team": "payments"})
    ag.create_authorizer(restApiId=api, name="payments-request", type="REQUEST",
                         authorizerUri=_lambda_uri(region, "payments-authorizer"),
                         identitySource="method.request.header.X-Client-Id")  # defined, used by no method
    old = ag.create_authorizer(restApiId=api, name="payments-token-v1", type="TOKEN",
                               authorizerUri=_lambda_uri(region, "payments-authorizer-v1"),
                               identitySource="method.request.header.Authorization")["id"]
    ag.create_request_validator(restApiId=api, name="validate-all", validateRequestBody=True,
                                validateRequestParameters=True)  # exists, used by no method
    payments = s.resource(region, api, root, "payments")
    payment = s.resource(region, api, payments, "{paymentId}")
    refunds = s.resource(region, api, root, "refunds")
    s.method(region, api, payments, "POST", "NONE", s.http("http://payments.legacy.shop.example/charge", "POST"),
             apiKeyRequired=True)
    s.method(region, api, payments, "OPTIONS", "NONE", s.MOCK)
    s.method(region, api, payment, "GET", "AWS_IAM", s.http("https://payments.shop.example/{paymentId}", "GET"),
             requestParameters={"method.request.path.paymentId": True})
    s.method(region, api, refunds, "POST", "NONE", s.http("https://payments.shop.example/refunds", "POST"),
             requestParameters={"method.request.querystring.orderId": True,
                                "method.request.header.Idempotency-Key": False})
    ag.put_gateway_response(restApiId=api, responseType="DEFAULT_4XX",
                            responseParameters={"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"})
    ag.delete_authorizer(restApiId=api, authorizerId=old)
    ag.update_rest_api(restApiId=api, patchOperations=_patch(("replace", "/policy", _policy({
        "Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
        "Resource": f"arn:aws:execute-api:{region}:{ACCOUNT}:{api}/*"}))))
    deployment = ag.create_deployment(restApiId=api, description="initial")["id"]
    ag.create_stage(restApiId=api, stageName="prod", deploymentId=deployment, cacheClusterEnabled=True,
                    cacheClusterSize="1.6", variables={"stripeAccessKeyId": FAKE_AWS_KEY, "region": region})
    ag.update_stage(restApiId=api, stageName="prod", patchOperations=_patch(
        ("replace", "/*/*/logging/loglevel", "INFO"), ("replace", "/*/*/logging/dataTrace", "true"),
        ("replace", "/*/*/caching/enabled", "true"), ("replace", "/*/*/caching/dataEncrypted", "false")))
    ag.update_stage(restApiId=api, stageName="prod", patchOperations=_patch(
        ("replace", "/~1payments/POST/logging/loglevel", "OFF")))
    s.client("wafv2", region).associate_web_acl(WebACLArn=acl_arn, ResourceArn=s.stage_arn(region, api, "prod"))
    plan = ag.create_usage_plan(name="payments-free", apiStages=[{"apiId": api, "stage": "prod"}])["id"]
    key = ag.create_api_key(name="checkout-service-key", enabled=True, tags={"consumer": "checkout"})["id"]
    ag.create_usage_plan_key(usagePlanId=plan, keyId=key, keyType="API_KEY")
    s.estate[region]["usage_plans"]["payments-free"] = plan
    s.estate[region]["api_keys"]["checkout-service-key"] = key
    return api


def _internal_inventory(s: _Seeder, vpce: str, cert_id: str) -> str:
    region, ag = US, s.client("apigateway", US)
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*",
         "Condition": {"StringEquals": {"aws:SourceVpce": vpce}}},
        {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*",
         "Condition": {"StringNotEquals": {"aws:SourceVpce": vpce}}}]})
    api, root = s.rest_api(region, "internal-inventory", "PRIVATE", endpoint={"vpcEndpointIds": [vpce]},
                           policy=policy, description="Stock levels for the warehouse", tags={"team": "logistics"})
    link = ag.create_vpc_link(name="inventory-nlb", description="NLB in front of the inventory service",
                              targetArns=[f"arn:aws:elasticloadbalancing:{region}:{ACCOUNT}:loadbalancer/net/"
                                          "inventory/50dc6c495c0c9188"], tags={"team": "logistics"})["id"]
    validator = ag.create_request_validator(restApiId=api, name="validate-params",
                                            validateRequestParameters=True)["id"]
    items = s.resource(region, api, root, "items")
    item = s.resource(region, api, items, "{sku}")
    private = {"connectionType": "VPC_LINK", "connectionId": link}
    s.method(region, api, items, "GET", "AWS_IAM",
             s.http("https://inventory.internal.shop.example/items", "GET", **private))
    s.method(region, api, item, "PUT", "AWS_IAM",
             s.http("https://inventory.internal.shop.example/items/{sku}", "PUT", **private),
             requestValidatorId=validator, requestParameters={"method.request.path.sku": True})
    deployment = ag.create_deployment(restApiId=api)["id"]
    ag.create_stage(restApiId=api, stageName="prod", deploymentId=deployment, tracingEnabled=True,
                    variables={"warehouse": "eu-central"})
    ag.update_stage(restApiId=api, stageName="prod", patchOperations=_patch(
        ("replace", "/clientCertificateId", cert_id),
        ("replace", "/*/*/logging/loglevel", "ERROR"), ("replace", "/*/*/metrics/enabled", "true"),
        ("replace", "/*/*/throttling/rateLimit", "200"), ("replace", "/*/*/throttling/burstLimit", "100"),
        ("replace", "/accessLogSettings/destinationArn", _log_group_arn(region, "/aws/apigateway/inventory-access")),
        ("replace", "/accessLogSettings/format", ACCESS_LOG_REST)))
    return api


def _legacy_reports(s: _Seeder) -> str:
    region, ag = US, s.client("apigateway", US)
    api, root = s.rest_api(region, "legacy-reports", "PRIVATE", description="Nightly sales reports")
    reports = s.resource(region, api, root, "reports")
    s.method(region, api, reports, "GET", "NONE", s.http("http://reports.legacy.internal/daily", "GET"))
    deployment = ag.create_deployment(restApiId=api)["id"]
    ag.create_stage(restApiId=api, stageName="v1", deploymentId=deployment)
    key = ag.create_api_key(name="reports-batch-key", enabled=False)["id"]
    s.estate[region]["api_keys"]["reports-batch-key"] = key
    return api


def _partner_gateway(s: _Seeder) -> str:
    region, ag = EU, s.client("apigateway", EU)
    api, root = s.rest_api(region, "partner-gateway", "REGIONAL", description="B2B partner orders",
                           policy=_policy({"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
                                           "Resource": "execute-api:/*",
                                           "Condition": {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}}}),
                           tags={"team": "partners"})
    auth = ag.create_authorizer(restApiId=api, name="partner-request-authorizer", type="REQUEST",
                                authorizerUri=_lambda_uri(region, "partner-authorizer"),
                                identitySource="method.request.header.X-Partner-Key")["id"]
    validator = ag.create_request_validator(restApiId=api, name="validate-body", validateRequestBody=True)["id"]
    partners = s.resource(region, api, root, "partners")
    partner = s.resource(region, api, partners, "{partnerId}")
    orders = s.resource(region, api, partner, "orders")
    backend = "https://partners.internal.shop.example"
    s.method(region, api, orders, "GET", "CUSTOM", s.http(f"{backend}/orders", "GET"), authorizerId=auth,
             requestParameters={"method.request.path.partnerId": True})
    s.method(region, api, orders, "POST", "CUSTOM", s.http(f"{backend}/orders", "POST"), authorizerId=auth,
             requestValidatorId=validator)
    s.method(region, api, orders, "OPTIONS", "NONE", s.MOCK)
    deployment = ag.create_deployment(restApiId=api)["id"]
    ag.create_stage(restApiId=api, stageName="live", deploymentId=deployment, tracingEnabled=True)
    ag.update_stage(restApiId=api, stageName="live", patchOperations=_patch(
        ("replace", "/*/*/logging/loglevel", "INFO"), ("replace", "/*/*/metrics/enabled", "true"),
        ("replace", "/*/*/throttling/rateLimit", "50"), ("replace", "/*/*/throttling/burstLimit", "20"),
        ("replace", "/accessLogSettings/destinationArn", _log_group_arn(region, "/aws/apigateway/partner-access")),
        ("replace", "/accessLogSettings/format", ACCESS_LOG_INCOMPLETE)))
    plan = ag.create_usage_plan(name="partner-gold", apiStages=[{"apiId": api, "stage": "live"}],
                                throttle={"rateLimit": 100.0, "burstLimit": 200},
                                quota={"limit": 1000000, "period": "MONTH"})["id"]
    key = ag.create_api_key(name="partner-acme-key", enabled=True, customerId="acme")["id"]
    ag.create_usage_plan_key(usagePlanId=plan, keyId=key, keyType="API_KEY")
    legacy = ag.create_api_key(name="partner-legacy-key", enabled=True, customerId="globex")["id"]
    s.control("backdate", {"kind": "api-key", "id": legacy, "region": region, "days": 400})
    s.estate[region]["usage_plans"]["partner-gold"] = plan
    s.estate[region]["api_keys"].update({"partner-acme-key": key, "partner-legacy-key": legacy})
    cert = s.client_certificate(region, "partner-gateway-legacy")
    s.control("backdate", {"kind": "client-certificate", "id": cert, "region": region, "days": 350})
    return api


def _rest_domains(s: _Seeder, apis: dict[str, str]) -> None:
    us, eu = s.client("apigateway", US), s.client("apigateway", EU)
    us.create_domain_name(domainName="api.shop.example",
                          regionalCertificateArn=s.certificate(US, "api.shop.example", requested=True),
                          endpointConfiguration={"types": ["REGIONAL"]}, securityPolicy="TLS_1_2",
                          mutualTlsAuthentication={"truststoreUri": "s3://shop-mtls-truststore/orders/truststore.pem",
                                                   "truststoreVersion": "1"}, tags={"team": "orders"})
    us.create_base_path_mapping(domainName="api.shop.example", restApiId=apis["orders-api"], basePath="orders",
                                stage="prod")
    us.create_domain_name(domainName="pay.shop.example",
                          certificateArn=s.imported_certificate(US, "pay.shop.example", days=10),
                          endpointConfiguration={"types": ["EDGE"]}, securityPolicy="TLS_1_0")
    us.create_base_path_mapping(domainName="pay.shop.example", restApiId=apis["payments-api"], stage="prod")
    eu.create_domain_name(domainName="partners.shop.example",
                          regionalCertificateArn=s.certificate(EU, "partners.shop.example"),
                          endpointConfiguration={"types": ["REGIONAL"]}, securityPolicy="TLS_1_0")
    eu.create_base_path_mapping(domainName="partners.shop.example", restApiId=apis["partner-gateway"], stage="live")
    s.estate[US]["domain_names"] += ["api.shop.example", "pay.shop.example"]
    s.estate[EU]["domain_names"].append("partners.shop.example")


def _storefront_http(s: _Seeder, net: dict[str, Any], link: str) -> str:
    region, v2 = US, s.client("apigatewayv2", US)
    api = v2.create_api(Name="storefront-http", ProtocolType="HTTP", Description="Shop front end",
                        CorsConfiguration={"AllowOrigins": ["*"], "AllowCredentials": True, "AllowMethods": ["*"],
                                           "AllowHeaders": ["*"]}, Tags={"team": "web"})["ApiId"]
    s.estate[region]["http_apis"]["storefront-http"] = api
    jwt = v2.create_authorizer(ApiId=api, Name="storefront-jwt", AuthorizerType="JWT",
                               IdentitySource=["$request.header.Authorization"],
                               JwtConfiguration={"Audience": [],
                                                 "Issuer": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_shop"}
                               )["AuthorizerId"]
    catalog = v2.create_integration(ApiId=api, IntegrationType="HTTP_PROXY", IntegrationMethod="ANY",
                                    IntegrationUri="http://catalog.shop.example/products",
                                    PayloadFormatVersion="1.0")["IntegrationId"]
    cart = v2.create_integration(ApiId=api, IntegrationType="HTTP_PROXY", IntegrationMethod="ANY",
                                 ConnectionType="VPC_LINK", ConnectionId=link, PayloadFormatVersion="1.0",
                                 IntegrationUri=f"arn:aws:elasticloadbalancing:{region}:{ACCOUNT}:listener/app/"
                                                "cart/2f1c5e0f3b7d4a6e/9f2d3c4b5a6e7f80")["IntegrationId"]
    for route, auth, target, extra in (("GET /products", "NONE", catalog, {}),
                                       ("GET /products/{id}", "NONE", catalog, {}),
                                       ("POST /cart", "JWT", cart, {"AuthorizerId": jwt}),
                                       ("OPTIONS /cart", "NONE", cart, {}),
                                       ("GET /admin/reports", "AWS_IAM", catalog, {})):
        v2.create_route(ApiId=api, RouteKey=route, AuthorizationType=auth, Target=f"integrations/{target}", **extra)
    v2.create_stage(ApiId=api, StageName="$default", AutoDeploy=True)
    v2.create_domain_name(DomainName="www-api.shop.example", DomainNameConfigurations=[{
        "CertificateArn": s.certificate(region, "www-api.shop.example"), "EndpointType": "REGIONAL",
        "SecurityPolicy": "TLS_1_2"}])
    v2.create_api_mapping(DomainName="www-api.shop.example", ApiId=api, Stage="$default")
    s.estate[region]["domain_names"].append("www-api.shop.example")
    return api


def _checkout_http(s: _Seeder, link: str) -> str:
    region, v2 = US, s.client("apigatewayv2", US)
    api = v2.create_api(Name="checkout-http", ProtocolType="HTTP", DisableExecuteApiEndpoint=True,
                        CorsConfiguration={"AllowOrigins": ["https://shop.example"], "AllowCredentials": True,
                                           "AllowMethods": ["GET", "POST"], "AllowHeaders": ["authorization"]},
                        Tags={"team": "checkout"})["ApiId"]
    s.estate[region]["http_apis"]["checkout-http"] = api
    jwt = v2.create_authorizer(ApiId=api, Name="checkout-jwt", AuthorizerType="JWT",
                               IdentitySource=["$request.header.Authorization"],
                               JwtConfiguration={"Audience": ["checkout"], "Issuer": "https://auth.shop.example/"}
                               )["AuthorizerId"]
    lam = v2.create_authorizer(ApiId=api, Name="checkout-lambda", AuthorizerType="REQUEST",
                               AuthorizerUri=_lambda_uri(region, "checkout-authorizer"),
                               AuthorizerPayloadFormatVersion="2.0", EnableSimpleResponses=True,
                               IdentitySource=["$request.header.X-Session"])["AuthorizerId"]
    target = v2.create_integration(ApiId=api, IntegrationType="HTTP_PROXY", IntegrationMethod="ANY",
                                   ConnectionType="VPC_LINK", ConnectionId=link, PayloadFormatVersion="1.0",
                                   IntegrationUri=f"arn:aws:elasticloadbalancing:{region}:{ACCOUNT}:listener/app/"
                                                  "checkout/7a8b9c0d1e2f3a4b/0c1d2e3f4a5b6c7d",
                                   TlsConfig={"ServerNameToVerify": "checkout.internal.shop.example"})["IntegrationId"]
    for route, auth, extra in (("POST /checkout", "JWT", {"AuthorizerId": jwt}),
                               ("GET /checkout/{id}", "CUSTOM", {"AuthorizerId": lam}),
                               ("OPTIONS /checkout", "NONE", {})):
        v2.create_route(ApiId=api, RouteKey=route, AuthorizationType=auth, Target=f"integrations/{target}", **extra)
    v2.create_stage(ApiId=api, StageName="prod", AutoDeploy=True,
                    AccessLogSettings={"DestinationArn": _log_group_arn(region, "/aws/apigateway/checkout-access"),
                                       "Format": ACCESS_LOG_V2},
                    DefaultRouteSettings={"DetailedMetricsEnabled": True, "ThrottlingBurstLimit": 50,
                                          "ThrottlingRateLimit": 100.0})
    v2.create_domain_name(DomainName="checkout.shop.example", DomainNameConfigurations=[{
        "CertificateArn": s.certificate(region, "checkout.shop.example"), "EndpointType": "REGIONAL",
        "SecurityPolicy": "TLS_1_2"}], MutualTlsAuthentication={
        "TruststoreUri": "s3://shop-mtls-truststore/checkout/truststore.pem", "TruststoreVersion": "3"})
    v2.create_api_mapping(DomainName="checkout.shop.example", ApiId=api, Stage="prod")
    s.control("truststore-warnings", {"domainName": "checkout.shop.example", "region": region, "api": "v2",
                                      "warnings": ["Certificate CN=Shop Partner CA, O=Shop in the truststore "
                                                   "expired on 2024-06-30."]})
    s.estate[region]["domain_names"].append("checkout.shop.example")
    return api


def _websocket(s: _Seeder, name: str, authorized: bool) -> str:
    region, v2 = EU, s.client("apigatewayv2", EU)
    api = v2.create_api(Name=name, ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action",
                        Tags={"team": "support"} if authorized else {})["ApiId"]
    s.estate[region]["websocket_apis"][name] = api
    target = v2.create_integration(ApiId=api, IntegrationType="AWS_PROXY",
                                   IntegrationUri=_lambda_uri(region, f"{name}-handler"))["IntegrationId"]
    connect: dict[str, Any] = {"AuthorizationType": "NONE"}
    if authorized:
        auth = v2.create_authorizer(ApiId=api, Name=f"{name}-connect-auth", AuthorizerType="REQUEST",
                                    AuthorizerUri=_lambda_uri(region, f"{name}-authorizer"),
                                    IdentitySource=["route.request.header.Authorization"])["AuthorizerId"]
        connect = {"AuthorizationType": "CUSTOM", "AuthorizerId": auth}
    v2.create_route(ApiId=api, RouteKey="$connect", Target=f"integrations/{target}", **connect)
    for route in ("$disconnect", "$default", "sendMessage"):
        v2.create_route(ApiId=api, RouteKey=route, Target=f"integrations/{target}")
    if authorized:
        v2.create_stage(ApiId=api, StageName="prod", DefaultRouteSettings={
            "LoggingLevel": "INFO", "DataTraceEnabled": False, "DetailedMetricsEnabled": True,
            "ThrottlingBurstLimit": 100, "ThrottlingRateLimit": 50.0},
            AccessLogSettings={"DestinationArn": _log_group_arn(region, f"/aws/apigateway/{name}-access"),
                               "Format": ACCESS_LOG_V2})
    else:
        v2.create_stage(ApiId=api, StageName="prod", StageVariables={"botToken": JWT_LIKE},
                        DefaultRouteSettings={"LoggingLevel": "OFF", "DataTraceEnabled": True,
                                              "DetailedMetricsEnabled": False})
    return api


def _partner_events_http(s: _Seeder) -> str:
    region, v2 = EU, s.client("apigatewayv2", EU)
    api = v2.create_api(Name="partner-events-http", ProtocolType="HTTP", Description="Partner webhooks")["ApiId"]
    s.estate[region]["http_apis"]["partner-events-http"] = api
    jwt = v2.create_authorizer(ApiId=api, Name="partner-events-jwt", AuthorizerType="JWT",
                               IdentitySource=["$request.header.Authorization"],
                               JwtConfiguration={"Audience": ["partner-events"], "Issuer": "http://idp.partner.example"}
                               )["AuthorizerId"]
    target = v2.create_integration(ApiId=api, IntegrationType="HTTP_PROXY", IntegrationMethod="POST",
                                   IntegrationUri="https://events.internal.shop.example/ingest",
                                   PayloadFormatVersion="1.0")["IntegrationId"]
    v2.create_route(ApiId=api, RouteKey="POST /events", AuthorizationType="JWT", AuthorizerId=jwt,
                    Target=f"integrations/{target}")
    v2.create_route(ApiId=api, RouteKey="GET /health", AuthorizationType="NONE", Target=f"integrations/{target}")
    v2.create_stage(ApiId=api, StageName="live", AutoDeploy=True,
                    AccessLogSettings={"DestinationArn": _log_group_arn(region, "/aws/apigateway/partner-events"),
                                       "Format": "$context.requestId $context.routeKey $context.status"})
    return api


def _bucket(s: _Seeder, region: str, name: str) -> None:
    s3 = s.client("s3", region)
    options: dict[str, Any] = {}
    if region != "us-east-1":
        options["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(Bucket=name, **options)


def _cloudtrail(s: _Seeder) -> None:
    us_s3 = s.client("s3", US)
    logs_bucket = f"shop-s3-access-logs-{ACCOUNT}"
    _bucket(s, US, logs_bucket)
    us_s3.put_bucket_acl(Bucket=logs_bucket, ACL="log-delivery-write")
    main_bucket = f"shop-cloudtrail-{ACCOUNT}"
    us_s3.create_bucket(Bucket=main_bucket, ObjectLockEnabledForBucket=True)
    us_s3.put_bucket_versioning(Bucket=main_bucket, VersioningConfiguration={"Status": "Enabled"})
    us_s3.put_public_access_block(Bucket=main_bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    us_s3.put_bucket_logging(Bucket=main_bucket, BucketLoggingStatus={"LoggingEnabled": {
        "TargetBucket": logs_bucket, "TargetPrefix": "cloudtrail/"}})
    legacy_bucket = f"shop-legacy-trail-{ACCOUNT}"
    _bucket(s, US, legacy_bucket)
    eu_bucket = f"shop-eu-trail-{ACCOUNT}"
    _bucket(s, EU, eu_bucket)
    s.client("s3", EU).put_bucket_acl(Bucket=eu_bucket, ACL="public-read")

    kms_key = s.client("kms", US).create_key(Description="CloudTrail log encryption")["KeyMetadata"]["Arn"]
    log_group = "/aws/cloudtrail/shop-org-trail"
    s.client("logs", US).create_log_group(logGroupName=log_group)
    role = s.client("iam", US).create_role(RoleName="cloudtrail-to-cloudwatch", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    s.client("sns", US).create_topic(Name="shop-cloudtrail-notify")

    us, eu = s.client("cloudtrail", US), s.client("cloudtrail", EU)
    main = us.create_trail(Name="shop-org-trail", S3BucketName=main_bucket, IsMultiRegionTrail=True,
                           IncludeGlobalServiceEvents=True, EnableLogFileValidation=True, KmsKeyId=kms_key,
                           CloudWatchLogsLogGroupArn=_log_group_arn(US, log_group) + ":*",
                           CloudWatchLogsRoleArn=role, SnsTopicName="shop-cloudtrail-notify",
                           TagsList=[{"Key": "owner", "Value": "security"}])["TrailARN"]
    us.start_logging(Name="shop-org-trail")
    us.put_insight_selectors(TrailName="shop-org-trail", InsightSelectors=[{"InsightType": "ApiCallRateInsight"}])

    legacy = us.create_trail(Name="legacy-audit-trail", S3BucketName=legacy_bucket,
                             IncludeGlobalServiceEvents=False,
                             TagsList=[{"Key": "owner", "Value": "ops"}])["TrailARN"]
    us.start_logging(Name=legacy)  # by ARN, as scripts often do
    us.stop_logging(Name="legacy-audit-trail")
    s.control("trail-status", {"trail": legacy, "region": US, "fields": {"LatestDeliveryError": "AccessDenied"}})

    regional = eu.create_trail(Name="eu-apps-trail", S3BucketName=eu_bucket, IncludeGlobalServiceEvents=False)[
        "TrailARN"]
    eu.start_logging(Name="eu-apps-trail")
    eu.put_event_selectors(TrailName="eu-apps-trail", EventSelectors=[
        {"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}])
    s.estate[US]["trails"].update({"shop-org-trail": main, "legacy-audit-trail": legacy})
    s.estate[EU]["trails"]["eu-apps-trail"] = regional


def _accounts(s: _Seeder) -> None:
    iam = s.client("iam", US)
    role = iam.create_role(RoleName="apigateway-cloudwatch-logs", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    s.client("apigateway", US).update_account(patchOperations=_patch(("replace", "/cloudwatchRoleArn", role)))
    eu = s.client("apigateway", EU)
    eu.update_account(patchOperations=_patch(("replace", "/cloudwatchRoleArn", role)))
    eu.update_account(patchOperations=_patch(("replace", "/cloudwatchRoleArn", "")))  # cleared: logs now dropped


def _activity(s: _Seeder) -> None:
    """Calls whose only purpose is to leave CloudTrail events for the activity controls."""
    us = s.client("apigateway", US)
    us.get_api_keys(includeValues=True)
    us.get_api_key(apiKey=s.estate[US]["api_keys"]["checkout-service-key"], includeValue=True)
    root = s.client("apigateway", US, ROOT_ACCESS_KEY_ID)
    s.estate[US]["api_keys"]["mobile-app-key"] = root.create_api_key(name="mobile-app-key", enabled=True)["id"]
    control_request(s.endpoint_url, "POST", "faults", {"service": "apigateway", "region": EU,
                                                       "operation": "GetRestApis", "count": 12,
                                                       "code": "AccessDeniedException", "status": 403})
    probe = s.client("apigateway", EU, PROBE_ACCESS_KEY_ID)
    for _ in range(12):
        try:
            probe.get_rest_apis()
        except probe.exceptions.ClientError:
            pass


def seed_demo(target: Sandbox | str) -> dict[str, Any]:
    """Creates the demo estate in a running sandbox (a Sandbox or its endpoint URL).

    Returns what was created, per region: {"us-east-1": {"rest_apis": {"orders-api": ID, ...},
    "http_apis": ..., "websocket_apis": ..., "trails": {name: ARN}, "api_keys": ..., "usage_plans": ...,
    "client_certificates": ..., "domain_names": [...], "web_acls": ..., "certificates": ...}, "eu-west-1": ...}.
    """
    endpoint = target if isinstance(target, str) else target.endpoint_url
    s = _Seeder(endpoint)
    net = s.network(US)
    shop_acl = s.web_acl(US, "shop-prod-acl", known_bad_inputs=True)
    payments_acl = s.web_acl(US, "payments-acl", known_bad_inputs=False)
    orders_cert = s.client_certificate(US, "orders-prod-backend")
    inventory_cert = s.client_certificate(US, "inventory-backend")
    apis = {"orders-api": _orders_api(s, shop_acl, orders_cert),
            "payments-api": _payments_api(s, payments_acl),
            "internal-inventory": _internal_inventory(s, net["vpce"], inventory_cert),
            "legacy-reports": _legacy_reports(s),
            "partner-gateway": _partner_gateway(s)}
    _rest_domains(s, apis)
    v2_link = s.client("apigatewayv2", US).create_vpc_link(Name="storefront-vpc-link", SubnetIds=net["subnets"],
                                                           SecurityGroupIds=[net["security_group"]],
                                                           Tags={"team": "web"})["VpcLinkId"]
    _storefront_http(s, net, v2_link)
    _checkout_http(s, v2_link)
    _websocket(s, "chat", authorized=False)
    _websocket(s, "support-chat", authorized=True)
    _partner_events_http(s)
    _cloudtrail(s)
    _accounts(s)
    _activity(s)
    seed_iam(s.endpoint_url, s.client("iam", US), s.estate)  # principals and their history: seed_iam.py
    seed_usage(s)
    s.estate["accounts"] = seed_accounts(s, ACCOUNT)  # the organization and its member account
    return s.estate
