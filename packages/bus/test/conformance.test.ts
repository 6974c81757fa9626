import { type Bus, InProcessBus, NatsBus } from '@baton/bus';
import {
  type BusPair,
  busConformance,
  type NatsServer,
  runConformanceCase,
  startNatsServer,
} from '@baton/bus/testing';
import { afterAll, beforeAll, describe, it } from 'vitest';

interface Target {
  name: string;
  setup(): Promise<void>;
  connect(): Promise<BusPair>;
  teardown(): Promise<void>;
}

function inProcess(): Target {
  let root: InProcessBus | undefined;
  return {
    name: 'InProcessBus',
    async setup() {
      root = new InProcessBus();
    },
    async connect() {
      const caller = (root as InProcessBus).connect();
      const worker = (root as InProcessBus).connect();
      return pair(caller, worker);
    },
    async teardown() {
      await root?.close();
    },
  };
}

/** A caller and a worker connection, closed together. */
function pair(caller: Bus, worker: Bus) {
  return {
    caller,
    worker,
    close: async () => {
      await caller.close();
      await worker.close();
    },
  };
}

function nats(): Target {
  let server: NatsServer | undefined;
  return {
    name: 'NatsBus',
    async setup() {
      server = await startNatsServer({ readyTimeoutMs: 30_000 });
    },
    async connect() {
      const servers = (server as NatsServer).url;
      const caller: Bus = await NatsBus.connect({ servers, name: 'caller' });
      const worker: Bus = await NatsBus.connect({ servers, name: 'worker' });
      return pair(caller, worker);
    },
    async teardown() {
      await server?.stop();
    },
  };
}

for (const target of [inProcess(), nats()]) {
  describe(`bus conformance: ${target.name}`, () => {
    let pair: BusPair;
    beforeAll(async () => {
      await target.setup();
      pair = await target.connect();
    });
    afterAll(async () => {
      await pair?.close();
      await target.teardown();
    });
    for (const testCase of busConformance) {
      it(testCase.name, () => runConformanceCase(testCase, pair, () => target.connect()));
    }
  });
}
