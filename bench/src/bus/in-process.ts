import { InProcessBus, remoteAgent, serveAgent } from '@baton/bus';
import { EventEmitter } from 'eventemitter3';
import { benchContract, benchPayload, echoAgent } from './echo.js';
import { expectCompleted, type RoundPlan, sampleRounds, versusFloor } from './stats.js';

export type { RoundPlan };

export type InProcessFigures = ReturnType<typeof versusFloor>;

/**
 * A 1 KiB handoff through remoteAgent → InProcessBus → serveAgent and back (envelope, validation on both
 * ends, trace context, deadline, result) against the floor: eventemitter3 request/reply that copies the
 * same payload through JSON each way. Rounds alternate between the two so both see the same machine.
 */
export async function measureInProcess(plan: RoundPlan): Promise<InProcessFigures> {
  const payload = benchPayload();

  const emitter = new EventEmitter();
  emitter.on('request', (json: string, reply: (json: string) => void) => {
    const value: unknown = JSON.parse(json);
    queueMicrotask(() => reply(JSON.stringify(value)));
  });
  const floor = () =>
    new Promise<unknown>((resolve) => {
      const json = JSON.stringify(payload);
      queueMicrotask(() => emitter.emit('request', json, (answer: string) => resolve(JSON.parse(answer))));
    });

  const caller = new InProcessBus();
  const workerBus = caller.connect();
  const worker = await serveAgent(workerBus, echoAgent, { contract: benchContract, heartbeatMs: 0 });
  const remote = remoteAgent(caller, { name: 'echo', contract: benchContract });
  const baton = () => remote.run(payload);

  const { floor: floorSamples, baton: batonSamples } = await sampleRounds(plan, {
    floor: { run: floor },
    baton: { run: baton, check: expectCompleted('bus bench') },
  });
  await worker.stop();
  await caller.close();
  await workerBus.close();

  return versusFloor(batonSamples, floorSamples);
}
