import { type Counter, type Meter, type MeterProvider, metrics } from '@opentelemetry/api';
import { GenAI } from '../tracing/attributes.js';

/**
 * Escalation metrics, on `@opentelemetry/api` meters only (the SDK is the application's choice):
 * `baton.agent.runs` counts runs as they end, `baton.escalations` counts questions put to a person
 * (`ask_human`), and `baton.escalation.rate` observes escalations ÷ runs in this process — the share of
 * work that needed a human, the number to watch as prompts, tools and models change.
 */
interface Instruments {
  provider: MeterProvider;
  runs: Counter;
  escalations: Counter;
}

let instruments: Instruments | undefined;
const totals = { runs: 0, escalations: 0 };

/** The instruments of the current global meter provider (an SDK installed later gets its own). */
function current(): Instruments {
  const provider = metrics.getMeterProvider();
  if (instruments?.provider !== provider) {
    const meter: Meter = provider.getMeter('@baton/core', '0.1.0');
    instruments = {
      provider,
      runs: meter.createCounter('baton.agent.runs', { description: 'Agent runs that ended' }),
      escalations: meter.createCounter('baton.escalations', {
        description: 'Questions an agent put to a person (ask_human), through the approval records',
      }),
    };
    meter
      .createObservableGauge('baton.escalation.rate', {
        description: 'Escalations per agent run in this process (escalations ÷ runs)',
        unit: '1',
      })
      .addCallback((result) => result.observe(totals.runs === 0 ? 0 : totals.escalations / totals.runs));
  }
  return instruments;
}

export function countRun(agent: string, status: string): void {
  totals.runs++;
  current().runs.add(1, { [GenAI.AGENT_NAME]: agent, 'baton.run.status': status });
}

export function countEscalation(agent: string, tool: string): void {
  totals.escalations++;
  current().escalations.add(1, { [GenAI.AGENT_NAME]: agent, [GenAI.TOOL_NAME]: tool });
}

/** This process's escalation figures since it started: runs ended, questions asked, and their ratio. */
export function escalationStats(): { runs: number; escalations: number; rate: number } {
  return { ...totals, rate: totals.runs === 0 ? 0 : totals.escalations / totals.runs };
}
