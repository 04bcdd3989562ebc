// What an operator is paged for, and what the deployment may cost. Metric alerts on the edge (Front Door 5xx, origin
// health, sustained 429s), dead-lettered edge deliveries (Service Bus), a log alert on `kars audit verify` runs that
// found a broken chain (or stopped reporting), all to one action group; a monthly cost budget on the resource group.
@description('Resource name prefix.')
param namePrefix string

@description('Tags applied to every resource.')
param tags object

@description('Front Door profile resource id.')
param frontDoorProfileId string

@description('Service Bus namespace resource id.')
param serviceBusNamespaceId string

@description('Edge queue name (dead-lettered deliveries are counted on it).')
param edgeQueueName string

@description('Application Insights component id (kars audit verify reports its verdict there).')
param appInsightsId string

@description('Region of the Application Insights component (log alert rules are regional).')
param location string

@description('Where alerts and budget notifications go.')
@minLength(1)
param alertEmails array

@description('Monthly cost budget of the resource group, in the billing currency.')
@minValue(1)
param monthlyBudget int

@description('First day of the budget period (yyyy-MM-01).')
param budgetStartDate string

@description('429 responses at the edge in 15 minutes that count as sustained throttling.')
@minValue(1)
param sustained429Threshold int = 3000

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: '${namePrefix}-operators'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: take('${namePrefix}ops', 12)
    enabled: true
    emailReceivers: [for (email, i) in alertEmails: {
      name: 'operator-${i}'
      emailAddress: email
      useCommonAlertSchema: true
    }]
  }
}

var actions = [
  {
    actionGroupId: actionGroup.id
  }
]

// 5xx at the edge: the app or a dependency is failing senders.
resource edge5xx 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${namePrefix}-edge-5xx'
  location: 'global'
  tags: tags
  properties: {
    description: 'More than 5 % of edge responses are 5xx'
    severity: 1
    enabled: true
    scopes: [
      frontDoorProfileId
    ]
    evaluationFrequency: 'PT1M'
    windowSize: 'PT5M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'percentage-5xx'
          metricName: 'Percentage5XX'
          operator: 'GreaterThan'
          threshold: 5
          timeAggregation: 'Average'
        }
      ]
    }
    actions: actions
  }
}

// Front Door cannot reach a healthy origin (Private Link connection, /api/health failing).
resource originHealth 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${namePrefix}-origin-health'
  location: 'global'
  tags: tags
  properties: {
    description: 'Front Door origin health below 90 %'
    severity: 1
    enabled: true
    scopes: [
      frontDoorProfileId
    ]
    evaluationFrequency: 'PT1M'
    windowSize: 'PT5M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'origin-health'
          metricName: 'OriginHealthPercentage'
          operator: 'LessThan'
          threshold: 90
          timeAggregation: 'Average'
        }
      ]
    }
    actions: actions
  }
}

// Sustained 429s: the edge's limits (or the WAF's per-IP rule) are shedding traffic for 15 minutes.
resource sustained429 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${namePrefix}-edge-429'
  location: 'global'
  tags: tags
  properties: {
    description: 'Sustained 429 responses at the edge'
    severity: 2
    enabled: true
    scopes: [
      frontDoorProfileId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'requests-429'
          metricName: 'RequestCount'
          dimensions: [
            {
              name: 'HttpStatus'
              operator: 'Include'
              values: [
                '429'
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: sustained429Threshold
          timeAggregation: 'Total'
        }
      ]
    }
    actions: actions
  }
}

// A delivery no router could take after maxDeliveryCount attempts (or that expired) is an event an agent never saw.
resource deadLetters 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${namePrefix}-dead-letters'
  location: 'global'
  tags: tags
  properties: {
    description: 'Edge deliveries were dead-lettered'
    severity: 2
    enabled: true
    scopes: [
      serviceBusNamespaceId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'dead-lettered'
          metricName: 'DeadletteredMessages'
          dimensions: [
            {
              name: 'EntityName'
              operator: 'Include'
              values: [
                edgeQueueName
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          timeAggregation: 'Maximum'
        }
      ]
    }
    actions: actions
  }
}

// `kars audit verify --report` sends one kars.audit.verify event per run (cli/commands/audit-verify.ts): a broken
// chain pages at once, and so does a day without any verdict (the scheduled verify stopped).
resource auditVerifyFailed 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = {
  name: '${namePrefix}-audit-verify'
  location: location
  tags: tags
  properties: {
    description: 'kars audit verify found a broken chain, or reported nothing for 26 hours'
    severity: 0
    enabled: true
    scopes: [
      appInsightsId
    ]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT26H'
    criteria: {
      allOf: [
        {
          query: 'let runs = customEvents | where name == "kars.audit.verify"; union (runs | where tostring(customDimensions.verdict) != "intact" | project timestamp), (print n = toscalar(runs | count) | where n == 0 | project timestamp = now())'
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

resource budget 'Microsoft.Consumption/budgets@2023-11-01' = {
  name: '${namePrefix}-monthly'
  properties: {
    category: 'Cost'
    amount: monthlyBudget
    timeGrain: 'Monthly'
    timePeriod: {
      startDate: budgetStartDate
    }
    notifications: {
      actual80: {
        enabled: true
        operator: 'GreaterThan'
        threshold: 80
        thresholdType: 'Actual'
        contactEmails: alertEmails
      }
      forecast100: {
        enabled: true
        operator: 'GreaterThan'
        threshold: 100
        thresholdType: 'Forecasted'
        contactEmails: alertEmails
      }
    }
  }
}

output actionGroupId string = actionGroup.id
