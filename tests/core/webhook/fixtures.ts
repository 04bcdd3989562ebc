// Minimal event bodies shaped like the providers' documented examples (field names and types as GitHub, Slack and
// Microsoft document them; values illustrative). Each test copies and mutates them.
const repository = { id: 1296269, node_id: 'MDEwOlJlcG9zaXRvcnkxMjk2MjY5', full_name: 'octocat/Hello-World', private: false };
const sender = { login: 'octocat', id: 1, type: 'User' };
const sha1 = '6dcb09b5b57875f334f61aebed695e2e4193db5e';
const sha2 = 'c2b2f5c1b0e7e2a4b3a2d0c4d0b4e5f6a7b8c9d0';

export const githubFixtures = {
  ping: { zen: 'Keep it logically awesome.', hook_id: 109948940, hook: { type: 'Repository', id: 109948940, active: true }, repository, sender },
  push: {
    ref: 'refs/heads/main', before: sha1, after: sha2, created: false, deleted: false, forced: false, repository,
    pusher: { name: 'octocat', email: 'octocat@github.com' }, sender,
    commits: [{ id: sha2, message: 'Fix all the bugs', timestamp: '2024-01-01T00:00:00Z', author: { name: 'Monalisa' } }],
    head_commit: { id: sha2, message: 'Fix all the bugs' },
  },
  issues: {
    action: 'opened',
    issue: { id: 1, number: 1347, title: 'Found a bug', user: sender, body: "I'm having a problem with this.", state: 'open' },
    repository, sender,
  },
  issue_comment: {
    action: 'created', issue: { id: 1, number: 1347, title: 'Found a bug' },
    comment: { id: 1, body: 'Me too', user: sender }, repository, sender,
  },
  pull_request: {
    action: 'opened', number: 1347,
    pull_request: { id: 1, number: 1347, title: 'Amazing new feature', user: sender, state: 'open', head: { ref: 'new-topic', sha: sha2 }, base: { ref: 'main', sha: sha1 } },
    repository, sender,
  },
} as const;

export const slackFixtures = {
  url_verification: { token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl', challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P', type: 'url_verification' },
  event_callback: {
    token: 'XXYYZZ', team_id: 'T123ABC456', api_app_id: 'A123ABC456', type: 'event_callback', event_id: 'Ev123ABC456', event_time: 1515449522,
    authorizations: [{ team_id: 'T123ABC456', user_id: 'U123ABC456', is_bot: true }],
    event: { type: 'app_mention', user: 'U123ABC456', text: '<@U0LAN0Z89> is it everything a river should be?', ts: '1515449522.000016', channel: 'C123ABC456', event_ts: '1515449522000016' },
  },
} as const;

export const teamsFixtures = {
  message: {
    type: 'message', id: '1485983408511', timestamp: '2017-02-01T21:10:07.437Z', localTimestamp: '2017-02-01T13:10:07.437-08:00',
    serviceUrl: 'https://smba.trafficmanager.net/amer-client-ss.msg/', channelId: 'msteams',
    from: { id: '29:1XJKJMvc5GBtc2JwZq0oj8tHZmzrQgFmB39ATiQWA85gQtHieVkKilBZ9XHoq9j7Zaqt7CZ-NJWi7me2kHTL3Bw', name: 'Tom Tester', aadObjectId: '00000000-0000-0000-0000-000000000001' },
    conversation: { isGroup: true, id: '19:253b1f341670408fb6fcb4a9a1ce1a5f@thread.skype;messageid=1485983408511', name: null },
    recipient: null, textFormat: 'plain', text: '<at>kars</at> hello',
    channelData: { teamsChannelId: '19:253b1f341670408fb6fcb4a9a1ce1a5f@thread.skype', tenant: { id: '72f988bf-86f1-41af-91ab-2d7cd011db47' } },
  },
} as const;

export const standardFixture = { type: 'contact.created', timestamp: '2022-11-03T20:26:10.344522Z', data: { id: '1f81eb52-5198-4599-803e-771906343485' } } as const;

/** Deep copy as mutable JSON, the shape parseEvent receives from JSON.parse. */
export const clone = <T>(value: T): Record<string, any> => JSON.parse(JSON.stringify(value)) as Record<string, any>;
