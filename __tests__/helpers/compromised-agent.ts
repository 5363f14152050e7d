import { request } from 'undici';

import {
  type DeltaMessage,
  PROTOCOL_HEADER,
  PROTOCOL_VERSION,
  RegisterResponse,
  ROUTES,
} from '../../src/protocol/messages.js';
import { FaultProxy, type RecordedRequest } from './fault-proxy.js';

export interface Answer {
  status: number;
  body: string;
}

interface Tamper {
  index: number;
  route: string;
  edit: (body: unknown, nth: number) => unknown;
  left: number;
  done: number;
  answers: Answer[];
  waiters: Array<() => void>;
}

interface Captured {
  name: string;
  index: number;
  token: string;
  /** Highest `seq` this agent sent so far, per route (events, metrics). */
  seq: Map<string, number>;
}

/**
 * A compromised agent job (issue 17): a wiretap between the agents and the
 * coordinator (a recording proxy on loopback) captures each agent's token from
 * its registration answer, as anyone holding one agent's job or its traffic
 * would; the test then sends what it likes with that token, straight to the
 * coordinator. Pass `intercept` as runDistributed's `agentUrl`.
 */
export class CompromisedAgent {
  #coordinatorUrl = '';
  readonly #agents = new Map<number, Captured>();
  readonly #waiters: Array<() => void> = [];
  /** Event types the wiretap swallows, per agent index. */
  readonly #swallowed = new Map<number, Set<string>>();
  readonly #tampers: Tamper[] = [];
  readonly #tampered = new WeakMap<RecordedRequest, Tamper>();

  /** Routes the honest agents through the wiretap; runDistributed's `agentUrl`. */
  readonly intercept = async (coordinatorUrl: string): Promise<string> => {
    this.#coordinatorUrl = coordinatorUrl;
    const tap = await FaultProxy.start(coordinatorUrl, {
      paths: [],
      onExchange: (req, answer) => this.#observe(req, answer),
      answerInstead: (req) => this.#swallow(req),
      rewrite: (req) => this.#rewrite(req),
    });
    return tap.url;
  };

  /** The coordinator's own URL (behind the wiretap), once the run listens. */
  get coordinatorUrl(): string {
    return this.#coordinatorUrl;
  }

  /** Resolves once agent `index` (0-based, `local-(index+1)`) has registered. */
  async agent(index: number): Promise<Captured> {
    for (;;) {
      const found = this.#agents.get(index);
      if (found) return found;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** Resolves once agent `index` has sent a request on `route` (e.g. its first metrics). */
  async sent(index: number, route: string): Promise<Captured> {
    for (;;) {
      const found = this.#agents.get(index);
      if (found?.seq.has(route)) return found;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /**
   * Rewrites agent `index`'s next `times` requests on `route` as they pass
   * (the agent's job itself compromised): its own sequence numbers and data
   * travel on, with whatever `edit` adds to the parsed body.
   */
  tamper(index: number, route: string, edit: (body: unknown, nth: number) => unknown, times = 1) {
    const tamper: Tamper = { index, route, edit, left: times, done: 0, answers: [], waiters: [] };
    this.#tampers.push(tamper);
    return {
      /** The coordinator's answers to the rewritten requests, once all `times` are answered. */
      answered: async (): Promise<Answer[]> => {
        while (tamper.answers.length < times) {
          await new Promise<void>((resolve) => tamper.waiters.push(resolve));
        }
        return tamper.answers;
      },
    };
  }

  /** Sends a request as agent `index` would (its token, the protocol header). */
  async send(
    index: number,
    route: string,
    body: unknown,
    method: 'GET' | 'POST' = 'POST',
  ): Promise<Answer> {
    const agent = await this.agent(index);
    const answer = await request(`${this.#coordinatorUrl}${route}`, {
      method,
      headers: {
        [PROTOCOL_HEADER]: String(PROTOCOL_VERSION),
        authorization: `Bearer ${agent.token}`,
        'content-type': 'application/json',
      },
      body: method === 'POST' ? JSON.stringify(body) : undefined,
    });
    return { status: answer.statusCode, body: await answer.body.text() };
  }

  /** Sends `text` as the body, as is (for JSON that JSON.stringify could not write). */
  async sendText(index: number, route: string, text: string): Promise<Answer> {
    const agent = await this.agent(index);
    const answer = await request(`${this.#coordinatorUrl}${route}`, {
      method: 'POST',
      headers: {
        [PROTOCOL_HEADER]: String(PROTOCOL_VERSION),
        authorization: `Bearer ${agent.token}`,
        'content-type': 'application/json',
      },
      body: text,
    });
    return { status: answer.statusCode, body: await answer.body.text() };
  }

  /** The next sequence number agent `index` would use on `route`, taken for this sender. */
  async nextSeq(index: number, route: string): Promise<number> {
    const agent = await this.agent(index);
    const seq = (agent.seq.get(route) ?? 0) + 1;
    agent.seq.set(route, seq);
    return seq;
  }

  /**
   * Sends a forged metric delta as agent `index`, under its next sequence
   * number, for the coordinator to refuse: a refused delta takes no number, so
   * the number is handed back afterwards (the agent's own next delta uses it).
   */
  async sendRefusedDelta(index: number, delta: DeltaMessage['delta']): Promise<Answer> {
    const message: DeltaMessage = {
      seq: await this.nextSeq(index, ROUTES.metrics),
      final: false,
      delta,
    };
    const answer = await this.send(index, ROUTES.metrics, message);
    const agent = await this.agent(index);
    agent.seq.set(ROUTES.metrics, message.seq - 1);
    return answer;
  }

  /** Sends an event with the agent's next sequence number (as the agent itself would). */
  async event(index: number, event: unknown): Promise<Answer> {
    const agent = await this.agent(index);
    const seq = (agent.seq.get(ROUTES.events) ?? 0) + 1;
    agent.seq.set(ROUTES.events, seq);
    return this.send(index, ROUTES.events, { seq, event });
  }

  /**
   * From now on the wiretap answers agent `index`'s `type` events with 200
   * itself and never passes them on: the agent believes it said it, the
   * coordinator never hears it (an agent job that stops reporting).
   */
  swallow(index: number, type: string): void {
    const types = this.#swallowed.get(index) ?? new Set<string>();
    types.add(type);
    this.#swallowed.set(index, types);
  }

  #swallow(req: RecordedRequest): { status: number; body: unknown } | undefined {
    if (new URL(req.path, 'http://x').pathname !== ROUTES.events) return undefined;
    const agent = [...this.#agents.values()].find(
      (a) => req.headers.authorization === `Bearer ${a.token}`,
    );
    if (!agent) return undefined;
    try {
      const report = JSON.parse(req.body.toString('utf8')) as {
        seq?: number;
        event?: { type?: string };
      };
      const type = report.event?.type;
      if (type === undefined || !this.#swallowed.get(agent.index)?.has(type)) return undefined;
      return { status: 200, body: { ok: true, seq: report.seq } };
    } catch {
      return undefined;
    }
  }

  #rewrite(req: RecordedRequest): Buffer | undefined {
    const path = new URL(req.path, 'http://x').pathname;
    const agent = this.#byAuthorization(req.headers.authorization);
    const tamper = this.#tampers.find(
      (t) => t.left > 0 && t.route === path && t.index === agent?.index,
    );
    if (!tamper) return undefined;
    const body = tamper.edit(JSON.parse(req.body.toString('utf8')), tamper.done++);
    tamper.left--;
    this.#tampered.set(req, tamper);
    return Buffer.from(JSON.stringify(body));
  }

  #byAuthorization(authorization: string | undefined): Captured | undefined {
    return [...this.#agents.values()].find((a) => authorization === `Bearer ${a.token}`);
  }

  #observe(req: RecordedRequest, answer: { status: number; body: Buffer }): void {
    const tamper = this.#tampered.get(req);
    if (tamper) {
      tamper.answers.push({ status: answer.status, body: answer.body.toString('utf8') });
      tamper.waiters.splice(0).forEach((wake) => wake());
    }
    const path = new URL(req.path, 'http://x').pathname;
    if (path === ROUTES.register && answer.status === 200) {
      const r = RegisterResponse.safeParse(JSON.parse(answer.body.toString('utf8')));
      if (r.success && !this.#agents.has(r.data.index)) {
        this.#agents.set(r.data.index, {
          name: r.data.agentId,
          index: r.data.index,
          token: r.data.token,
          seq: new Map(),
        });
      }
    } else if (path === ROUTES.events || path === ROUTES.metrics) {
      const agent = [...this.#agents.values()].find(
        (a) => req.headers.authorization === `Bearer ${a.token}`,
      );
      const seq = seqOf(req.body);
      if (agent && seq !== undefined) {
        agent.seq.set(path, Math.max(agent.seq.get(path) ?? 0, seq));
      }
    }
    this.#waiters.splice(0).forEach((wake) => wake());
  }
}

function seqOf(body: Buffer): number | undefined {
  try {
    const seq = (JSON.parse(body.toString('utf8')) as { seq?: unknown }).seq;
    return typeof seq === 'number' ? seq : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Adds `passes` passing samples to a metrics delta's `checks` rate (defining
 * it if the delta does not): check results an attacker adds must be samples
 * of k6's checks metric too, or the coordinator refuses the delta as
 * impossible (issue 17.5) before any other rule sees it.
 */
export function withCheckSamples(report: DeltaMessage, passes: number): void {
  const series = report.delta.series.find((s) => s.kind === 'total' && s.metric === 'checks');
  if (series?.kind === 'total' && series.sink.t === 'rate') {
    series.sink.trues += passes;
    series.sink.total += passes;
    return;
  }
  if (!report.delta.metrics.some((m) => m.name === 'checks')) {
    report.delta.metrics.push({ name: 'checks', type: 'rate', contains: 'default' });
  }
  report.delta.series.push({
    kind: 'total',
    metric: 'checks',
    sink: { t: 'rate', trues: passes, total: passes },
  });
}
