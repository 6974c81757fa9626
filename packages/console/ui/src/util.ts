import { useEffect, useRef, useState } from 'preact/hooks';
import { savedKey } from './api';

export function formatMs(ms: number | undefined): string {
  if (ms === undefined) return '—';
  if (ms < 1) return '<1 ms';
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1_000)} s`;
}

export function formatTokens(tokens: { input: number; output: number } | undefined): string {
  if (!tokens) return '—';
  return `${(tokens.input + tokens.output).toLocaleString('en')}`;
}

/** Usage without a price is unknown, never $0. */
export function formatCost(cost: number | undefined): string {
  if (cost === undefined) return 'unknown';
  return cost === 0 ? '$0' : `$${cost < 0.01 ? cost.toFixed(4) : cost.toFixed(2)}`;
}

export function formatTime(ms: number): string {
  return new Date(ms).toLocaleString('en-GB', { dateStyle: 'short', timeStyle: 'medium' });
}

export function json(value: unknown): string {
  if (value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

/** Subscribes to the console's change feed: `onChange` runs (debounced) whenever the run data changes. */
export function useLive(onChange: () => void): boolean {
  const callback = useRef(onChange);
  callback.current = onChange;
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    // EventSource cannot send an API key: behind one, look every two seconds instead.
    if (savedKey()) {
      setConnected(true);
      const poll = setInterval(() => callback.current(), 2_000);
      return () => clearInterval(poll);
    }
    const source = new EventSource('api/events');
    source.addEventListener('open', () => setConnected(true));
    source.addEventListener('error', () => setConnected(false));
    source.addEventListener('change', () => {
      clearTimeout(timer);
      timer = setTimeout(() => callback.current(), 150);
    });
    return () => {
      clearTimeout(timer);
      source.close();
    };
  }, []);
  return connected;
}

const USER_KEY = 'baton.console.user';

export function savedUser(): string {
  try {
    return localStorage.getItem(USER_KEY) ?? '';
  } catch {
    return '';
  }
}

export function saveUser(user: string): void {
  try {
    localStorage.setItem(USER_KEY, user);
  } catch {
    // Private windows may refuse storage: the name is then asked again next time.
  }
}

export function statusClass(status: string): string {
  if (status === 'completed' || status === 'ok' || status === 'approved' || status === 'edited')
    return 'good';
  if (status === 'running' || status === 'awaiting_approval' || status === 'pending') return 'wait';
  return 'bad';
}
