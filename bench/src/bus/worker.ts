/**
 * The far side of the NATS bus benchmark, in its own process: a raw NATS responder (the floor), a Baton
 * worker serving the echo agent untraced, and another serving it with an OpenTelemetry SDK tracer
 * (BasicTracerProvider + BatchSpanProcessor, spans dropped). One process answers all three, so the
 * ratios compare like with like. Prints READY when everything listens.
 */
import { NatsBus, serveAgent } from '@baton/bus';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { benchContract, echoAgent } from './echo.js';
import { noopExporter } from './exporter.js';

interface WorkerConfig {
  url: string;
  rawSubject: string;
  namespace: string;
  tracedNamespace: string;
}

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(noopExporter())] });

const bus = await NatsBus.connect({ servers: config.url, name: 'bench-worker' });
// The floor: what a NATS user writes for request/reply of JSON, nothing else.
bus.connection.subscribe(config.rawSubject, {
  callback: (error, msg) => {
    if (!error) msg.respond(JSON.stringify(JSON.parse(msg.string())));
  },
});
await serveAgent(bus, echoAgent, { contract: benchContract, namespace: config.namespace, heartbeatMs: 0 });
await serveAgent(bus, echoAgent, {
  contract: benchContract,
  namespace: config.tracedNamespace,
  heartbeatMs: 0,
  tracer: provider.getTracer('bench-worker'),
});
await bus.flush();
process.stdout.write('READY\n');
process.on('SIGTERM', () => {
  void provider
    .shutdown()
    .then(() => bus.close())
    .finally(() => process.exit(0));
});
