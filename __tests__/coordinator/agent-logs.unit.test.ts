import { describe, expect, it } from '@jest/globals';

import { AgentLogs } from '../../src/coordinator/agent-logs.js';
import { CapturingLogger } from '../helpers/distributed.js';

function relay() {
  const log = new CapturingLogger();
  let now = 1_000_000;
  const logs = new AgentLogs(log, () => now);
  return { log, logs, advance: (ms: number) => (now += ms) };
}

describe("AgentLogs (remote agents' k6 lines in the coordinator's log, issue 20.3)", () => {
  it('prints each line at info, prefixed by the agent', () => {
    const { log, logs } = relay();
    logs.receive('agent 2 (eu)', ['time="t" level=warning msg="Request Failed"'], 0);
    expect(log.lines).toEqual(['[agent 2 (eu)] time="t" level=warning msg="Request Failed"']);
  });

  it('makes every line printable on one line: no workflow command, no ANSI sequence', () => {
    const { log, logs } = relay();
    logs.receive('agent 1 (a)', ['hi\n::error::injected\r\u001b[31mred\u2028x'], 0);
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toBe('[agent 1 (a)] hi\\n::error::injected\\r\\e[31mred\\u{2028}x');
    expect(log.text()).not.toMatch(/^::/m);
  });

  it('prints at most 100 lines at once and 50 a second after that; the rest is counted and said', () => {
    const { log, logs, advance } = relay();
    const batch = (n: number) => Array.from({ length: n }, (_, i) => `l${String(i)}`);
    logs.receive('agent 1 (a)', batch(50), 0);
    logs.receive('agent 1 (a)', batch(50), 0);
    logs.receive('agent 1 (a)', batch(50), 7);
    const shown = () => log.lines.filter((l) => /\] l\d+$/.test(l)).length;
    expect(shown()).toBe(100);
    expect(log.lines.at(-1)).toBe(
      "[agent 1 (a)] … 57 more k6 log lines not shown here (at most 50 a second per agent, 100 for all); that agent's own log has them",
    );
    // Half a second refills 25 lines; the note waits for its 10 s.
    advance(500);
    logs.receive('agent 1 (a)', batch(50), 0);
    expect(shown()).toBe(125);
    expect(log.lines.filter((l) => l.includes('not shown'))).toHaveLength(1);
    // Another agent has its own budget.
    logs.receive('agent 2 (b)', batch(50), 0);
    expect(shown()).toBe(175);
    // At the end, what was left out since the last note.
    logs.finish();
    expect(log.lines.at(-1)).toContain('[agent 1 (a)] … 25 more k6 log lines not shown here');
    expect(log.lines.filter((l) => l.includes('not shown'))).toHaveLength(2);
  });

  it('says lines the agent left out even when it printed all it got', () => {
    const { log, logs } = relay();
    logs.receive('agent 1 (a)', ['one'], 3_000);
    expect(log.lines).toEqual([
      '[agent 1 (a)] one',
      "[agent 1 (a)] … 3,000 more k6 log lines not shown here (at most 50 a second per agent, 100 for all); that agent's own log has them",
    ]);
    logs.finish();
    expect(log.lines).toHaveLength(2);
  });

  it('caps all agents together too: 200 lines at once, 100 a second (issue 20.6)', () => {
    const { log, logs, advance } = relay();
    const batch = Array.from({ length: 50 }, (_, i) => `l${String(i)}`);
    for (let agent = 1; agent <= 5; agent++) logs.receive(`agent ${String(agent)} (a)`, batch, 0);
    const shown = (agent: number) =>
      log.lines.filter((l) => l.startsWith(`[agent ${String(agent)} (a)] l`)).length;
    expect([1, 2, 3, 4, 5].map(shown)).toEqual([50, 50, 50, 50, 0]);
    expect(log.lines.at(-1)).toContain('[agent 5 (a)] … 50 more k6 log lines not shown here');
    // A second later the run's budget has 100 lines again; agent 5's own is untouched.
    advance(1_000);
    logs.receive('agent 5 (a)', batch, 0);
    expect(shown(5)).toBe(50);
  });
});
