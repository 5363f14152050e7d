import { describe, expect, it } from '@jest/globals';

import { LogForwarder } from '../../src/agent/log-forwarder.js';
import type { AgentEvent } from '../../src/protocol/messages.js';

type LogEvent = Extract<AgentEvent, { type: 'log' }>;

/** A forwarder on a manual timer, with a send the test answers by hand. */
function forwarder() {
  const sent: LogEvent[] = [];
  const answers: Array<() => void> = [];
  let tick = () => {};
  let cancelled = false;
  const f = new LogForwarder({
    send: (event) => {
      sent.push(event);
      return new Promise<void>((resolve) => answers.push(resolve));
    },
    every: (_ms, fn) => {
      tick = fn;
      return () => (cancelled = true);
    },
  });
  return { f, sent, answers, tick: () => tick(), cancelled: () => cancelled };
}

describe('LogForwarder (an agent sends its k6 log to the coordinator, issue 20.3)', () => {
  it('sends nothing until a tick, then one batch of the lines so far', () => {
    const { f, sent, tick } = forwarder();
    tick();
    expect(sent).toEqual([]);
    f.add('time="…" level=info msg="one" source=console');
    f.add('two');
    expect(sent).toEqual([]);
    tick();
    expect(sent).toEqual([
      { type: 'log', lines: ['time="…" level=info msg="one" source=console', 'two'], dropped: 0 },
    ]);
  });

  it('keeps at most 50 lines a batch and counts the rest, said in the next batch', async () => {
    const { f, sent, answers, tick } = forwarder();
    for (let i = 0; i < 1_000; i++) f.add(`line ${String(i)}`);
    tick();
    expect(sent[0]?.lines).toHaveLength(50);
    expect(sent[0]?.lines[49]).toBe('line 49');
    expect(sent[0]?.dropped).toBe(950);
    answers[0]?.();
    await Promise.resolve();
    f.add('after');
    tick();
    expect(sent[1]).toEqual({ type: 'log', lines: ['after'], dropped: 0 });
  });

  it('never has two batches on the way: a slow link gets one a time', async () => {
    const { f, sent, answers, tick } = forwarder();
    f.add('a');
    tick();
    f.add('b');
    tick();
    tick();
    expect(sent).toHaveLength(1);
    answers[0]?.();
    await new Promise((resolve) => setImmediate(resolve));
    tick();
    expect(sent.map((e) => e.lines)).toEqual([['a'], ['b']]);
  });

  it('cuts a long line to 2,000 characters', () => {
    const { f, sent, tick } = forwarder();
    f.add('x'.repeat(5_000));
    tick();
    expect(sent[0]?.lines[0]).toHaveLength(2_000);
    expect(sent[0]?.lines[0]?.endsWith('…')).toBe(true);
  });

  it('keeps a batch under 64 KiB of JSON, whatever the lines hold (an event may be 128 KiB)', () => {
    const { f, sent, tick } = forwarder();
    for (let i = 0; i < 50; i++) f.add('"\u0001'.repeat(1_000));
    tick();
    const event = sent[0];
    expect(event?.lines.length).toBeGreaterThan(0);
    expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThan(64 * 1024 + 200);
    expect((event?.lines.length ?? 0) + (event?.dropped ?? 0)).toBe(50);
  });

  it('close() queues the rest at once, even behind a batch on its way, and stops the timer', async () => {
    const { f, sent, answers, tick, cancelled } = forwarder();
    f.add('a');
    tick();
    f.add('last');
    const closed = f.close();
    expect(cancelled()).toBe(true);
    expect(sent.map((e) => e.lines)).toEqual([['a'], ['last']]);
    for (const answer of answers) answer();
    await closed;
  });

  it('stop() sends nothing more', () => {
    const { f, sent, cancelled } = forwarder();
    f.add('a');
    f.stop();
    expect(cancelled()).toBe(true);
    expect(sent).toEqual([]);
  });
});
