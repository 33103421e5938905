-- id: cloudtrail_event_enumeration_detected
-- title: No principal enumerates the account
-- description: Alarms once per principal and UTC day in the last window_days days (default 90) on which the
--   principal called more than the share parameter (default 0.3, 30%) of a fixed list of discovery actions
--   (Describe, Get and List calls attackers use to map an account: the list of Prowler's
--   cloudtrail_threat_detection_enumeration), in any region of the account, failed calls included. Audit tools
--   that crawl an account look like this too; mute them by principal. The row names the principal's first such
--   call of the day, and the resource is the principal. Reads aws_cloudtrail_event: the log files named with
--   --cloudtrail-logs, else LookupEvents (one lookup per action and region).
-- severity: high
-- resource_type: CloudTrail event
-- remediation: Find out who holds the principal's credentials and whether the calls were an expected audit; if not, disable the credentials and review what else the principal did.
--   Console: CloudTrail > Event history, filter on the user name or access key of the principal; IAM > Users or Roles > (principal) > Security credentials.
--   CLI: aws cloudtrail lookup-events --lookup-attributes AttributeKey=AccessKeyId,AttributeValue=ACCESS_KEY_ID --start-time START
--   CLI: aws iam update-access-key --user-name USER --access-key-id ACCESS_KEY_ID --status Inactive
-- frameworks:
-- aliases: cloudtrail_threat_detection_enumeration
-- parameters: window_days BIGINT = 90; share DOUBLE = 0.3
WITH discovery AS (
    SELECT *, coalesce(user_arn, user_identity ->> 'principalId', access_key_id, 'unknown') AS principal,
           date_trunc('day', event_time) AS day
    FROM aws_cloudtrail_event
    -- Whole days from midnight UTC: every activity control then asks for the same window, which the check
    -- runner merges into one read of the log files or LookupEvents (now() would differ per control).
    WHERE event_time >= current_date - to_days(CAST(coalesce(getvariable('window_days'), 90) AS INTEGER))
      AND event_name IN (
          'DescribeAccessEntry', 'DescribeAccountAttributes', 'DescribeAvailabilityZones', 'DescribeBundleTasks',
          'DescribeCarrierGateways', 'DescribeClientVpnRoutes', 'DescribeCluster', 'DescribeDhcpOptions',
          'DescribeFlowLogs', 'DescribeImages', 'DescribeInstanceAttribute', 'DescribeInstanceInformation',
          'DescribeInstanceTypes', 'DescribeInstances', 'DescribeKeyPairs', 'DescribeLogGroups', 'DescribeLogStreams',
          'DescribeOrganization', 'DescribeRegions', 'DescribeSecurityGroups', 'DescribeSnapshotAttribute',
          'DescribeSnapshotTierStatus', 'DescribeSubscriptionFilters', 'DescribeTransitGatewayMulticastDomains',
          'DescribeVolumes', 'DescribeVolumesModifications', 'DescribeVpcEndpointConnectionNotifications',
          'DescribeVpcs', 'GetAccount', 'GetAccountAuthorizationDetails', 'GetAccountSendingEnabled', 'GetBucketAcl',
          'GetBucketLogging', 'GetBucketPolicy', 'GetBucketReplication', 'GetBucketVersioning', 'GetCallerIdentity',
          'GetCertificate', 'GetConsoleScreenshot', 'GetCostAndUsage', 'GetDetector', 'GetEbsDefaultKmsKeyId',
          'GetEbsEncryptionByDefault', 'GetFindings', 'GetFlowLogsIntegrationTemplate',
          'GetIdentityVerificationAttributes', 'GetInstances', 'GetIntrospectionSchema', 'GetLaunchTemplateData',
          'GetLogRecord', 'GetParameters', 'GetPolicyVersion', 'GetPublicAccessBlock', 'GetQueryResults', 'GetRegions',
          'GetSMSAttributes', 'GetSMSSandboxAccountStatus', 'GetSendQuota', 'GetTransitGatewayRouteTableAssociations',
          'GetUserPolicy', 'HeadObject', 'ListAccessKeys', 'ListAccounts', 'ListAllMyBuckets',
          'ListAssociatedAccessPolicies', 'ListAttachedUserPolicies', 'ListClusters', 'ListDetectors', 'ListDomains',
          'ListFindings', 'ListHostedZones', 'ListIPSets', 'ListIdentities', 'ListInstanceProfiles', 'ListObjects',
          'ListOrganizationalUnitsForParent', 'ListOriginationNumbers', 'ListPolicyVersions', 'ListRoles', 'ListRules',
          'ListServiceQuotas', 'ListSubscriptions', 'ListTargetsByRule', 'ListTopics', 'ListUsers', 'LookupEvents',
          'Search')
),
per_day AS (
    SELECT account_id, principal, day, count(DISTINCT event_name) AS actions,
           string_agg(DISTINCT event_name, ', ' ORDER BY event_name) AS action_list,
           string_agg(DISTINCT coalesce(aws_region, region), ', ' ORDER BY coalesce(aws_region, region)) AS regions,
           count(*) AS calls, arg_min(event_id, event_time) AS first_event
    FROM discovery
    GROUP BY ALL
),
flagged AS (
    -- 87 known discovery actions: the list above (a test checks the count).
    SELECT *, actions / 87.0 AS action_share
    FROM per_day
    WHERE actions / 87.0 > coalesce(getvariable('share'), 0.3)
)
SELECT CASE WHEN starts_with(f.principal, 'arn:') THEN f.principal
            ELSE format('arn:{}:::{}', CASE WHEN starts_with(coalesce(d.aws_region, d.region), 'cn-') THEN 'aws-cn'
                                            WHEN starts_with(coalesce(d.aws_region, d.region), 'us-gov-') THEN 'aws-us-gov'
                                            ELSE 'aws' END, f.account_id) END AS resource,
       'alarm' AS status,
       format('Principal {} called {} of the 87 known discovery actions ({}%) on {}, in {} calls in {}: {}.', f.principal,
              f.actions, CAST(round(100 * f.action_share) AS INTEGER), strftime(f.day, '%Y-%m-%d'), f.calls, f.regions, f.action_list)
           AS reason,
       f.account_id, coalesce(d.aws_region, d.region) AS region, d.event_id, d.event_time, d.event_name, d.user_arn,
       d.source_ip_address, d.user_agent, f.actions AS discovery_actions, f.action_list AS discovery_action_list
FROM flagged f
JOIN discovery d ON d.event_id = f.first_event AND d.account_id = f.account_id;
