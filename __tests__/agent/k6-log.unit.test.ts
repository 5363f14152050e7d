/**
 * Issue 16.13 (messages as k6 gives them): which lines of an agent's k6 log
 * the coordinator says for the run, and which are our own side effects.
 */
import { describe, expect, it } from '@jest/globals';

import { K6Log, MAX_MARKED_FAILED_EVENTS } from '../../src/agent/k6-log.js';
import type { Logger } from '../../src/runtime/logger.js';

function setup(state: { stopOrdered?: boolean; signalledByUs?: boolean } = {}) {
  const lines: { level: keyof Logger; message: string }[] = [];
  const log: Logger = {
    debug: (message) => lines.push({ level: 'debug', message }),
    info: (message) => lines.push({ level: 'info', message }),
    warning: (message) => lines.push({ level: 'warning', message }),
    error: (message) => lines.push({ level: 'error', message }),
  };
  const sent: string[] = [];
  const forwarded: string[] = [];
  const k6Log = new K6Log({
    forward: (line) => forwarded.push(line),
    log,
    stopOrdered: () => state.stopOrdered ?? false,
    signalledByUs: () => state.signalledByUs ?? false,
    onMarkedFailed: (message) => sent.push(message),
  });
  const levels = () => lines.map((l) => l.level);
  return { k6Log, sent, levels, forwarded };
}

const k6Line = (msg: string, extra = '') =>
  `time="2026-12-02T12:00:00Z" level=error msg=${JSON.stringify(msg)}${extra}`;

describe('issue 16.13: an agent passes on what k6 run would say, and keeps our side effects to debug', () => {
  it("issue 16.13: sends exec.test.fail()'s line to the coordinator, not a console.error() of the same words", () => {
    const { k6Log, sent, levels } = setup();
    k6Log.line(k6Line('test marked as failed: bad answer'));
    k6Log.line(k6Line('test marked as failed'));
    k6Log.line(k6Line('test marked as failed: pretend', ' source=console'));
    k6Log.line(k6Line('test run was marked as failed'));
    expect(sent).toEqual(['test marked as failed: bad answer', 'test marked as failed']);
    expect(levels()).toEqual(['debug', 'debug', 'info', 'debug']);
  });

  it('issue 16.13: sends at most MAX_MARKED_FAILED_EVENTS, then logs the rest itself', () => {
    const { k6Log, sent, levels } = setup();
    for (let i = 0; i <= MAX_MARKED_FAILED_EVENTS; i++) {
      k6Log.line(k6Line(`test marked as failed: ${String(i)}`));
    }
    expect(sent).toHaveLength(MAX_MARKED_FAILED_EVENTS);
    expect(levels().at(-1)).toBe('info');
    expect(levels().filter((l) => l === 'debug')).toHaveLength(MAX_MARKED_FAILED_EVENTS);
  });

  it("issue 16.13: setup()'s and teardown()'s REST errors are the coordinator's to say; an interrupt is ours only when the agent sent it", () => {
    const interrupt = "test run was aborted because k6 received a 'interrupt' signal";
    const other = setup();
    other.k6Log.line(k6Line('Error executing setup', ' error="Error: no"'));
    other.k6Log.line(k6Line('Error executing teardown', ' error="Error: no"'));
    other.k6Log.line(k6Line(interrupt));
    expect(other.levels()).toEqual(['debug', 'debug', 'info']);
    const ours = setup({ signalledByUs: true });
    ours.k6Log.line(k6Line(interrupt));
    expect(ours.levels()).toEqual(['debug']);
    expect(ours.sent).toEqual([]);
  });

  it('a REST API port taken before k6 bound it is ours to retry (seen in the conformance suite): debug; other API server errors stay', () => {
    const agent = setup();
    agent.k6Log.line(
      k6Line(
        'Error from API server',
        ' error="listen tcp 127.0.0.1:41061: bind: address already in use"',
      ),
    );
    agent.k6Log.line(k6Line('Error from API server', ' error="listen tcp: permission denied"'));
    expect(agent.levels()).toEqual(['debug', 'info']);
  });

  it("issue 20.3: forwards to the coordinator's log what the agent shows, but what the coordinator says itself", () => {
    const { k6Log, forwarded } = setup({ stopOrdered: true });
    const shown = k6Line('hello', ' source=console');
    const warning = 'time="2026-12-02T12:00:00Z" level=warning msg="Request Failed" error="EOF"';
    k6Log.line(shown);
    k6Log.line(warning);
    k6Log.line(k6Line('test run stopped from REST API'));
    k6Log.line(
      k6Line('No script iterations fully finished, consider making the test duration longer'),
    );
    k6Log.line(k6Line('test marked as failed: x'));
    k6Log.line(
      `${k6Line('Error: no account\n\tat file:///s.js:3:9(4)')} hint="error while initializing VU #2 (script exception)"`,
    );
    k6Log.line('a line k6 printed that is not logfmt');
    expect(forwarded).toEqual([shown, warning, 'a line k6 printed that is not logfmt']);
  });
});
